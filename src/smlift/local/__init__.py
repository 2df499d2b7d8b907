"""The embedded default's storage: where the emulated AWS services keep their state here.

    home.py      where its state lives ($SMLIFT_HOME, by default .smlift/)
    store.py     the SQLite store: state machines, executions, history, jobs, images, models
    s3.py        local S3 (s3://BUCKET/KEY is a file under $SMLIFT_HOME/s3/) and transfers

The services built on it sit above: local SageMaker Processing (`smlift.processing`), local
images (`smlift.images`), local endpoints (`smlift.serving`) and the local Step Functions with
the run of the pipeline (`smlift.embedded`). Each answers in AWS's shapes, so that what runs
here runs on AWS unchanged (`smlift.aws` is the other side).
"""
