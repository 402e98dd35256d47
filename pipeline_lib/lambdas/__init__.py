"""Lambda handlers: this folder is the Lambda asset as is (stdlib + boto3 only, each file self-contained)."""
