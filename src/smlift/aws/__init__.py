"""The AWS side: everything that talks to a real AWS account.

    client.py        the one door to AWS: every boto3 call goes through `AwsClient`
    deploy/          plan, then execute: the state machine, roles and code of a deployment
    remote_build.py  `smlift build --remote`: images built and pushed on CodeBuild
    smdocker.py      the names `sm-docker build` (SageMaker Studio image build) gives things
    notebook.py      the deployed state machine as a Step Functions Data Science SDK Workflow

Nothing here is imported at `smlift --help` time: boto3 loads only when a command needs AWS.
"""
