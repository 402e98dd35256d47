"""The workbench's CDK app: `app.py` (entry point), `stacks/` and one construct per concern."""
