"""The embedded default's Step Functions and the run of the pipeline on it.

    sfn.py       a boto3-like Step Functions client over the asl engine and the store
    tasks.py     the local engine's Task integrations (local SageMaker Processing)
    run.py       the steps of `smlift run`: prepare, preflight, start, watch, report

Above `smlift.processing` (its jobs are this engine's Tasks) and `smlift.local` (the storage
both use), so neither imports this package.
"""
