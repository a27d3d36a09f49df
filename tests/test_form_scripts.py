"""Desk scripts parse: a syntax error in a list or form script silently removes its buttons."""

import shutil
import subprocess

import pytest
from support import REPO

SCRIPTS = sorted((REPO / "myapp").rglob("*.js"))


@pytest.mark.no_site
@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js to parse the scripts")
@pytest.mark.parametrize("script", SCRIPTS, ids=[str(p.relative_to(REPO)) for p in SCRIPTS])
def test_script_parses(script):
	result = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True)
	assert result.returncode == 0, result.stderr
