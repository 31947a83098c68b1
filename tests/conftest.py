import os, shutil, subprocess, sys
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

def cli(*args, check=True, **kw):
    "Run the installed `metallicity-cnn` command; return the CompletedProcess"
    exe = shutil.which('metallicity-cnn') or pytest.fail('metallicity-cnn is not installed (pip install -e ".[dev]")')
    r = subprocess.run([exe, *map(str, args)], capture_output=True, text=True, **kw)
    if check and r.returncode != 0: pytest.fail(f"metallicity-cnn {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
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
