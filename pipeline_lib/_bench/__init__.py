"""The benchmark behind `python -m pipeline_lib bench` (private: the command is the interface).

`run.run_bench` measures the whole pipeline side by side in one run against a private local
cloud and returns the figures (`BenchResult`); `moto_reference` measures stock moto's DynamoDB
in a process of its own; `rss` samples the local cloud's memory.
"""
