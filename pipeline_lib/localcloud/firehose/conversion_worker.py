"""A conversion worker process: `python -m pipeline_lib.localcloud.firehose.conversion_worker`.

Takes pickled requests, ``("convert", converter spec, [record bytes], [group])`` or ``("parquet",
converter spec, [piece])`` or ``("parquets", converter spec, [[piece]])`` (batch_conversion.py), and answers each with a pickled ``("ok",
outcomes, pieces, CPU seconds)`` / ``("ok", Parquet bytes)`` / ``("ok", [Parquet bytes])``, or ``("error", message)``, through the shared
files and pipes of conversion_protocol.py; anything else the process prints goes to stderr (the
server's log). It imports pyarrow and the conversion
modules only, not moto. Converters are kept per spec, so a stream's schema is parsed once.
"""
from __future__ import annotations

import json
import os
import pickle
from typing import Any

__all__ = ["main"]

MAX_CONVERTERS = 16  # specs kept (one per delivery stream and schema version in use)


def main() -> None:
    from . import conversion_protocol as protocol
    from .batch_conversion import convert_records, write_parquet
    from .conversion import Converter

    requests_fd, answers_fd = (int(fd) for fd in os.environ[protocol.FILES_ENV].split(","))
    # The protocol owns the original stdin/stdout; prints (none expected) go to stderr.
    announcements, replies = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    converters: dict[str, Any] = {}
    while True:
        try:
            length = protocol.read_length(announcements)
        except protocol.WorkerGone:
            return  # the cloud closed the pipe: done
        kind, spec, *arguments = pickle.loads(protocol.read_all(requests_fd, length))
        try:
            key = json.dumps(spec, sort_keys=True, default=str)
            converter = converters.get(key)
            if converter is None:
                if len(converters) >= MAX_CONVERTERS:
                    converters.pop(next(iter(converters)))
                converter = converters[key] = Converter(**spec)
            if kind == "convert":
                batch = convert_records(converter, *arguments)
                answer: tuple = ("ok", batch.outcomes, batch.pieces, batch.cpu_seconds)
            elif kind == "parquets":
                answer = ("ok", [write_parquet(converter, pieces) for pieces in arguments[0]])
            else:
                answer = ("ok", write_parquet(converter, *arguments))
        except Exception as exc:  # an engine bug: reported to the engine, which fails loudly
            answer = ("error", f"{type(exc).__name__}: {exc}")
        body = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        protocol.write_file(answers_fd, body)
        protocol.write_pipe(replies, protocol.LENGTH.pack(len(body)))


if __name__ == "__main__":
    main()
