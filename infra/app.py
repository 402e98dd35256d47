"""CDK app entry point (`cdk synth` from infra/, or `python -m pipeline_lib synth --out DIR`)."""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# `python infra/app.py` puts infra/ first on sys.path, where infra/constructs/ would shadow the
# `constructs` library; import infra and pipeline_lib from the repository root instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import aws_cdk as cdk  # noqa: E402

from infra.dataset_files import DatasetParams, dataset_from_context, ensure_dataset  # noqa: E402
from infra.nag import apply_checks  # noqa: E402
from infra.stacks.workbench_stack import STACK_NAME, WorkbenchStack  # noqa: E402
from pipeline_lib import lambdas  # noqa: E402
from pipeline_lib.schema import SchemaError, load_schema  # noqa: E402


def main() -> None:
    app = cdk.App(analytics_reporting=False)
    try:
        # `dataset_dir` (your own data, as pipeline_lib.data.write_data_set makes it) replaces the
        # generated data set; `schema` names the lake schema file (default: the package's).
        dataset_dir = dataset_from_context(app.node.try_get_context("dataset_dir"))
        if dataset_dir is None:
            dataset_dir = ensure_dataset(ROOT / "build" / "dataset", DatasetParams.from_context(app.node.try_get_context))
        schema = load_schema(app.node.try_get_context("schema"))
    except (ValueError, SchemaError) as exc:  # bad context: one line that says what to pass, no traceback
        sys.exit(f"error: {exc}")
    WorkbenchStack(
        app,
        STACK_NAME,
        # Both from the package (its data and its Lambda sources), as an installed one has them.
        schema=schema,
        lambda_asset_dir=Path(lambdas.__file__).resolve().parent,
        dataset_dir=dataset_dir,
        description="CDC workbench: DynamoDB -> Kinesis -> Firehose (Lambda, dynamic partitions, Parquet) "
        "-> S3 -> Glue -> Athena",
    )
    apply_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
