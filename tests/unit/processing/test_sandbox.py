"""sandbox: what a bubblewrap job is given, without running bwrap."""

import os
from pathlib import Path

from smlift.processing import sandbox


def test_runtime_dirs_are_the_venv_and_its_base_installation_outside_usr(tmp_path):
    base = tmp_path / "pyenv" / "3.11"
    (base / "bin").mkdir(parents=True)
    (base / "bin" / "python3.11").write_text("")
    venv = tmp_path / "runtimes" / "r1"
    (venv / "bin").mkdir(parents=True)
    os.symlink(base / "bin" / "python3.11", venv / "bin" / "python3")
    (venv / "pyvenv.cfg").write_text(f"home = {base / 'bin'}\n")
    assert sandbox.runtime_dirs(venv / "bin") == sorted([str(base), str(venv)])


def test_runtime_dirs_under_usr_need_no_bind(tmp_path):
    assert sandbox.runtime_dirs(Path("/usr/bin")) == []


def test_job_args_bind_config_read_only_over_a_writable_opt_ml(tmp_path):
    root = tmp_path / "job"
    (root / "opt" / "ml" / "config").mkdir(parents=True)
    (root / "opt" / "program").mkdir()
    args = sandbox.job_args(root, set(), Path("/usr/bin"), "/opt/program")
    pairs = [tuple(args[i:i + 3]) for i in range(len(args) - 2)]
    assert ("--bind", str(root / "opt" / "ml"), "/opt/ml") in pairs
    assert ("--ro-bind", str(root / "opt" / "ml" / "config"), "/opt/ml/config") in pairs
    assert ("--bind", str(root / "opt" / "program"), "/opt/program") in pairs
    assert args[-2:] == ["--chdir", "/opt/program"]


def test_parent_folders_of_a_bind_are_made_0755_not_bwraps_0700():
    assert sandbox._dirs("/root/.pyenv/versions/3.11") == [
        "--perms", "0755", "--dir", "/root", "--perms", "0755", "--dir", "/root/.pyenv",
        "--perms", "0755", "--dir", "/root/.pyenv/versions"]


def test_a_fake_process_is_signalled_itself_not_some_host_grandchild():
    class Fake:
        pid, signals = os.getpid(), []

        def poll(self):
            return None

        def signal(self, signum):
            self.signals.append(signum)

    fake = Fake()
    sandbox.SandboxProcess(fake).signal(15)
    assert fake.signals == [15]
