"""The local cloud: moto (pinned) plus what makes the managed services behave.

One background process on 127.0.0.1 answers the AWS APIs the pipeline uses. `lifecycle` starts,
finds and stops it; `server` is the process; each extension module makes one service behave
like AWS (see docs/ARCHITECTURE.md).
"""
