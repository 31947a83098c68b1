import io, os, shutil, subprocess, sys, traceback, warnings
from contextlib import redirect_stdout, redirect_stderr
from pathlib import Path
import pandas as pd, pytest
from metallicity_cnn.core import sample_dir

os.environ.setdefault('MPLBACKEND', 'Agg')

@pytest.fixture(scope='session')
def sample():
    "The shared real SDSS sample; a missing sample is an error, not a skip"
    return sample_dir(Path(__file__).parent)

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
    "120 real galaxies as a CSV catalogue"
    p = tmp_path_factory.mktemp('cat')/'catalog.csv'
    catalog.head(120).to_csv(p, index=False)
    return p

@pytest.fixture(scope='session')
def run_dir(sample, small_catalog, tmp_path_factory):
    "A model trained through the command line (tiny recipe: 32 px, 1 epoch) on 120 real galaxies, read from a FITS catalogue"
    from astropy.table import Table
    out = tmp_path_factory.mktemp('runs')/'run'
    t = Table.from_pandas(pd.read_csv(small_catalog)) # objID as a 64-bit integer column, as FITS catalogues hold it
    t.write(out.parent/'catalog.fits')
    cli('train', '--catalog', out.parent/'catalog.fits', '--images', sample/'images', '--out', out, '--recipe', 'tiny', '--seed', 0)
    return out

@pytest.fixture(scope='session')
def cat70(catalog, tmp_path_factory):
    "The first 70 real galaxies as a CSV catalogue (as the issues' misuse cases use them)"
    p = tmp_path_factory.mktemp('cat70')/'cat70.csv'
    catalog.head(70).to_csv(p, index=False)
    return p

@pytest.fixture(scope='session')
def run70(cat70, sample, tmp_path_factory):
    "A tiny-recipe model (32 px, 1 epoch) trained through the command line on `cat70` (42 training galaxies)"
    out = tmp_path_factory.mktemp('run70')/'run70'
    cli('train', '--catalog', cat70, '--images', sample/'images', '--out', out, '--recipe', 'tiny')
    return out
