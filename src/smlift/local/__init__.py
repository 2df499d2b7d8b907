"""The embedded default: the AWS services smlift needs, emulated on this machine.

    home.py      where its state lives ($SMLIFT_HOME, by default .smlift/)
    store.py     the SQLite store: state machines, executions, history, jobs, images, models
    s3.py        local S3 (s3://BUCKET/KEY is a file under $SMLIFT_HOME/s3/) and transfers
    sfn.py       a boto3-like Step Functions client over the asl engine and the store
    embedded.py  the local engine's Task integrations (local SageMaker Processing)
    run.py       the steps of `smlift run`: prepare, preflight, start, watch, report

Each module answers in AWS's shapes, so that what runs here runs on AWS unchanged
(`smlift.aws` is the other side).
"""
