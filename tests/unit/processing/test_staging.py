import json
import os

import pytest

from smlift.errors import ProcessingJobError, StorageError
from smlift.processing.spec import build_spec
from smlift.local.s3 import LocalS3, deal
from smlift.processing.staging import (ClientError, cluster_layout, create_root, host_path,
                                       lay_image_files, stage_cluster, stage_inputs)


class FakeS3:
    """Stages a fixed set of objects per prefix; records the calls."""

    def __init__(self, objects=None, error=None):
        self.objects, self.error, self.calls = objects or {}, error, []

    def stage_prefix(self, uri, dest, shard=(0, 1)):
        self.calls.append(("prefix", uri, dest))
        if self.error:
            raise self.error
        for key, data in self.objects.get(uri, {}).items():
            (dest / key).write_bytes(data)
        return len(self.objects.get(uri, {}))

    def stage_manifest(self, uri, dest, shard=(0, 1)):
        self.calls.append(("manifest", uri, dest))
        return 1


@pytest.fixture
def spec(minimal_request):
    return build_spec(minimal_request, arn="arn:aws:sagemaker:us-east-1:1:processing-job/p")


def test_root_holds_the_config_files_and_empty_output_folders(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    config = json.loads((staged.opt_ml / "config/processingjobconfig.json").read_text())
    assert config["ProcessingJobArn"] == spec.arn
    assert config["ProcessingInputs"][0]["S3Input"]["S3DataDistributionType"] == "FullyReplicated"
    resource = json.loads((staged.opt_ml / "config/resourceconfig.json").read_text())
    assert resource["current_host"] == "algo-1" and resource["hosts"] == ["algo-1"]
    assert resource["current_instance_type"] == "ml.m5.large"
    assert (staged.opt_ml / "processing/output").is_dir()
    assert list((staged.opt_ml / "processing/output").iterdir()) == []
    assert (staged.opt_ml / "output").is_dir() and staged.log_dir.is_dir()


def test_a_stale_root_of_the_same_name_is_replaced(spec, tmp_path):
    (tmp_path / "job/opt/ml/processing/output").mkdir(parents=True)
    (tmp_path / "job/opt/ml/processing/output/old.csv").write_text("old")
    staged = create_root(tmp_path / "job", spec)
    assert list((staged.opt_ml / "processing/output").iterdir()) == []


def test_inputs_are_staged_at_their_local_paths(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    s3 = FakeS3({"s3://b/in": {"rows.csv": b"a\n"}})
    assert stage_inputs(staged, spec, s3) == {"data": 1}
    assert (staged.opt_ml / "processing/input/rows.csv").read_bytes() == b"a\n"


def test_an_empty_input_prefix_is_a_client_error_naming_the_uri(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    with pytest.raises(ClientError, match='No S3 objects found under S3 URL "s3://b/in"'):
        stage_inputs(staged, spec, FakeS3())


def test_a_storage_refusal_is_a_client_error(spec, tmp_path):
    staged = create_root(tmp_path / "job", spec)
    with pytest.raises(ClientError, match="Cannot stage input 'data'"):
        stage_inputs(staged, spec, FakeS3(error=StorageError("bad key")))


def test_image_files_are_copied_never_linked(spec, tmp_path):
    source = tmp_path / "ctx"
    (source / "pkg").mkdir(parents=True)
    (source / "predict.py").write_text("print(1)")
    (source / "pkg/util.py").write_text("x = 1")
    staged = create_root(tmp_path / "job", spec)
    lay_image_files(staged, ((source / "predict.py", "/opt/ml/code/"),
                             (source / "pkg", "/opt/ml/code/pkg")))
    laid = staged.opt_ml / "code/predict.py"
    assert laid.read_text() == "print(1)"
    assert not laid.is_symlink() and os.stat(laid).st_ino != os.stat(source / "predict.py").st_ino
    assert (staged.opt_ml / "code/pkg/util.py").read_text() == "x = 1"


def test_container_paths_cannot_escape_the_job_root(tmp_path):
    assert host_path(tmp_path, "/opt/ml/x") == tmp_path / "opt/ml/x"
    with pytest.raises(ProcessingJobError, match="'..'"):
        host_path(tmp_path, "/opt/../../etc")


def test_discard_work_keeps_config_message_and_logs_even_past_unreadable_folders(spec, tmp_path):
    from smlift.processing.staging import discard_work

    staged = create_root(tmp_path / "job", spec)
    (staged.opt_ml / "processing/input/rows.csv").parent.mkdir(parents=True, exist_ok=True)
    (staged.opt_ml / "processing/input/rows.csv").write_text("a")
    locked = staged.root / ".smlift/overlay-work/work"
    locked.mkdir(parents=True)
    (locked / "x").mkdir()
    locked.chmod(0)
    staged.message_path.write_text("done")
    discard_work(staged)
    assert not (staged.opt_ml / "processing").exists()
    assert not (staged.root / ".smlift").exists()
    assert staged.message_path.read_text() == "done"
    assert (staged.opt_ml / "config/processingjobconfig.json").exists() and staged.log_dir.is_dir()


def test_sharded_keys_are_dealt_round_robin_in_s3_key_order():
    keys = ["p/b", "p/a", "p/é", "p/c", "p/B"]
    assert deal(keys, 0, 2) == ["p/B", "p/b", "p/é"]
    assert deal(keys, 1, 2) == ["p/a", "p/c"]
    assert deal(keys, 0, 1) == ["p/B", "p/a", "p/b", "p/c", "p/é"]
    assert deal(["p/a"], 2, 3) == []


def test_one_instance_keeps_the_job_root_layout(spec, tmp_path):
    [only] = cluster_layout(tmp_path / "job", spec)
    assert (only.root, only.host, only.hosts, only.log_dir) == (
        tmp_path / "job", "algo-1", ("algo-1",), tmp_path / "job" / "logs")


def _sharded(minimal_request, count):
    request = json.loads(json.dumps(minimal_request))
    request["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = count
    request["ProcessingInputs"][0]["S3Input"].update(S3Uri="s3://bkt/in",
                                                     S3DataDistributionType="ShardedByS3Key")
    request["ProcessingInputs"].append({"InputName": "code", "S3Input": {
        "S3Uri": "s3://bkt/code", "LocalPath": "/opt/ml/processing/code", "S3DataType": "S3Prefix"}})
    return build_spec(request, arn="arn:aws:sagemaker:us-east-1:1:processing-job/p")


def test_each_instance_gets_its_host_its_share_and_every_replicated_object(minimal_request,
                                                                           tmp_path):
    spec = _sharded(minimal_request, 3)
    s3 = LocalS3(tmp_path / "home")
    for name in ("part-0", "part-1", "part-2", "part-3"):
        s3.put_bytes(name.encode(), f"s3://bkt/in/{name}")
    s3.put_bytes(b"code", "s3://bkt/code/step.py")
    instances = stage_cluster(cluster_layout(tmp_path / "job", spec), spec, s3)
    assert [one.root for one in instances] == [tmp_path / "job" / f"algo-{i}" for i in (1, 2, 3)]
    shares = [sorted(p.name for p in (one.opt_ml / "processing/input").iterdir())
              for one in instances]
    assert shares == [["part-0", "part-3"], ["part-1"], ["part-2"]]
    for one in instances:
        assert (one.opt_ml / "processing/code/step.py").read_bytes() == b"code"
        resource = json.loads((one.opt_ml / "config/resourceconfig.json").read_text())
        assert resource["current_host"] == one.host
        assert resource["hosts"] == ["algo-1", "algo-2", "algo-3"]
        assert one.log_dir == tmp_path / "job" / "logs"


def test_an_instance_may_get_an_empty_share_but_an_empty_input_still_fails(minimal_request,
                                                                           tmp_path):
    spec = _sharded(minimal_request, 2)
    s3 = LocalS3(tmp_path / "home")
    s3.put_bytes(b"code", "s3://bkt/code/step.py")
    s3.put_bytes(b"one", "s3://bkt/in/only")
    second = stage_cluster(cluster_layout(tmp_path / "job", spec), spec, s3)[1]
    assert list((second.opt_ml / "processing/input").iterdir()) == []
    s3.delete("s3://bkt/in/only")
    with pytest.raises(ClientError, match="No S3 objects found"):
        stage_cluster(cluster_layout(tmp_path / "job", spec), spec, s3)
