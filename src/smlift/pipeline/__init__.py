"""The pipeline contract: the execution input (`contract`), the IAM policies (`iam`), the checks
of `smlift validate` (`validate`) and the drawings of `smlift graph` (`graph`)."""
