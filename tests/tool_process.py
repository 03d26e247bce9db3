"""Running a tool of the repository in a subprocess, as a user would."""
import os
import os.path as osp
import subprocess
import sys
from typing import List

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_tool(cmd: List[str], **env_overrides: str) -> str:
    """Run ``cmd`` from the repository root on one OpenMP thread, with the
    test interpreter's folder first on ``PATH``; assert it succeeds and
    return its stdout and stderr."""
    env = dict(os.environ, OMP_NUM_THREADS='1', **env_overrides)
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    result = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, \
        result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr
