import io, os, shutil, subprocess, sys, traceback, warnings
from contextlib import redirect_stdout, redirect_stderr
import pandas as pd, pytest
from metallicity_cnn.core import example_sample

os.environ.setdefault('MPLBACKEND', 'Agg')

@pytest.fixture(scope='session')
def sample():
    "The 60 real SDSS galaxies shipped with the package: the tests need nothing outside the repository"
    return example_sample()

@pytest.fixture(scope='session')
def catalog(sample):
    return pd.read_csv(sample/'catalog.csv', dtype={'objID': str})

def _show_warning(message, category, filename, lineno, file=None, line=None):
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

def _in_process(args) -> subprocess.CompletedProcess:
    "`metallicity-cnn args` run in this process as the console script runs it, its output and exit status captured"
    from metallicity_cnn.cli import run_command
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), warnings.catch_warnings():
        warnings.resetwarnings() # as a fresh interpreter: each warning shown once per call, DeprecationWarnings hidden
        for c in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning): warnings.simplefilter('ignore', c)
        warnings.showwarning = _show_warning # to the captured stderr, not to pytest's recorder
        try: code = run_command(args)
        except SystemExit as e: code = e.code if isinstance(e.code, int) else int(e.code is not None)
        except Exception: traceback.print_exc(); code = 1 # as the interpreter would: a traceback and exit status 1
    return subprocess.CompletedProcess(['metallicity-cnn', *args], code, out.getvalue(), err.getvalue())

def cli(*args, check=True, fresh=False, **kw):
    """Run the `metallicity-cnn` command line; return the CompletedProcess. It runs in this process (a new one costs a
    torch import, ~6 s of CPU per call) unless `fresh`, or given `subprocess.run` options (`env`, `cwd`, ...): then the
    installed console script runs in a new process"""
    args = [str(a) for a in args]
    if fresh or kw:
        exe = shutil.which('metallicity-cnn') or pytest.fail('metallicity-cnn is not installed (pip install -e ".[dev]")')
        r = subprocess.run([exe, *args], capture_output=True, text=True, **kw)
    else: r = _in_process(args)
    if check and r.returncode != 0: pytest.fail(f"metallicity-cnn {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r

@pytest.fixture(scope='session')
def small_catalog(catalog, tmp_path_factory):
    "The 60 real galaxies as a CSV catalogue"
    p = tmp_path_factory.mktemp('cat')/'catalog.csv'
    catalog.to_csv(p, index=False)
    return p

@pytest.fixture(scope='session')
def run_dir(sample, small_catalog, tmp_path_factory):
    "A model trained through the command line (tiny recipe: 32 px, 1 epoch) on 60 real galaxies, read from a FITS catalogue"
    from astropy.table import Table
    out = tmp_path_factory.mktemp('runs')/'run'
    t = Table.from_pandas(pd.read_csv(small_catalog)) # objID as a 64-bit integer column, as FITS catalogues hold it
    t.write(out.parent/'catalog.fits')
    cli('train', '--catalog', out.parent/'catalog.fits', '--images', sample/'images', '--out', out, '--recipe', 'tiny', '--seed', 0)
    return out
