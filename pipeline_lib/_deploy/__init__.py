"""Deployment internals behind `pipeline_lib.deploy` (not a public API).

  app        where the CDK app (infra/) is; a clear error when it is not there
  synth      the CDK app synthesized into a cloud assembly, without the CDK CLI; reading it back
  assets     the assembly's file assets: what to upload where, zipped as the CDK CLI zips
  bootstrap  what `cdk bootstrap` leaves (assets bucket, version parameter); publishing the assets
  events     a stack operation followed through its events until the stack settles
  buckets    emptying a stack's buckets before it is deleted
  local      the local backend's deploy/destroy (the template as a stack in the local cloud)
  cdk_cli    the aws backend's deploy/destroy (the pinned CDK CLI through npx)
  lock       one deploy at a time per assembly directory
  errors     DeployError
"""
