"""Bad input to smlift deploy: one clear line naming the file or field and the fix,
exit code 1, never a traceback (see conftest.py)."""

from pathlib import Path


ROOT = Path(__file__).resolve().parents[3]


def test_deploy_names_a_bad_bucket_as_the_bucket_before_any_call(run_cli, moto_aws, monkeypatch,
                                                                 assert_user_error):
    import boto3

    monkeypatch.chdir(ROOT)
    assert_user_error(run_cli("deploy", "--bucket", "Bad_Bucket", "--dry-run"),
                      "--bucket: invalid bucket name 'Bad_Bucket'")
    assert boto3.client("iam", region_name="us-east-1").list_roles()["Roles"] == []


def test_deploy_outside_the_project_root_suggests_project(run_cli, moto_aws, tmp_path,
                                                          monkeypatch, assert_user_error):
    import boto3

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="my-bucket")
    monkeypatch.chdir(tmp_path)
    assert_user_error(run_cli("deploy", "--bucket", "my-bucket", "--dry-run"),
                      "not inside an smlift project", "or pass --project DIR")

