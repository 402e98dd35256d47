"""A conversion worker process: `python -m pipeline_lib.localcloud.firehose.conversion_worker`.

Reads pickled requests ``(converter spec, [record bytes, ...])`` from stdin and answers each with
a pickled ``("ok", Arrow IPC bytes, outcomes)`` or ``("error", message)`` on its stdout; anything
else the process prints goes to stderr (the server's log). It imports pyarrow and the conversion
modules only, not moto. Converters are kept per spec, so a stream's schema is parsed once.
"""
from __future__ import annotations

import json
import os
import pickle
import sys
from typing import Any

__all__ = ["main"]

MAX_CONVERTERS = 16  # specs kept (one per delivery stream and schema version in use)


def main() -> None:
    from .batch_conversion import convert_records, encode
    from .conversion import Converter

    # The protocol owns the original stdout; prints (none expected) go to stderr.
    responses = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    converters: dict[str, Any] = {}
    while True:
        try:
            spec, records = pickle.load(requests)
        except EOFError:
            return  # the cloud closed the pipe: done
        try:
            key = json.dumps(spec, sort_keys=True, default=str)
            converter = converters.get(key)
            if converter is None:
                if len(converters) >= MAX_CONVERTERS:
                    converters.pop(next(iter(converters)))
                converter = converters[key] = Converter(**spec)
            answer: tuple = ("ok", *encode(convert_records(converter, records)))
        except Exception as exc:  # an engine bug: reported to the engine, which fails loudly
            answer = ("error", f"{type(exc).__name__}: {exc}")
        pickle.dump(answer, responses, protocol=pickle.HIGHEST_PROTOCOL)
        responses.flush()


if __name__ == "__main__":
    main()
