"""Download speed of `metallicity-cnn download-images`: images/s against the local fake SkyServer (tests/fake_skyserver.py,
real sample cutouts) with a fixed latency added to every request, at 1 and 8 workers, rate cap set high so that only
concurrency differs. Target: >= 20 images/s at 8 workers (the seed's serial script: about 1.7/s).

    python bench/download.py [--n 120] [--latency 0.1] [--workers 1 8] [--max_rate 1000]
"""
import importlib.util, sys, tempfile, time
from pathlib import Path
from fastcore.script import call_parse, Param
from metallicity_cnn.sdss import download_images


def _load_fake_skyserver():
    "The module tests/fake_skyserver.py, loaded from its file (`sys.path` left as it is)"
    if (m := sys.modules.get('fake_skyserver')) is not None: return m
    spec = importlib.util.spec_from_file_location('fake_skyserver', Path(__file__).resolve().parents[1]/'tests'/'fake_skyserver.py')
    m = importlib.util.module_from_spec(spec)
    sys.modules['fake_skyserver'] = m # registered before it runs, as an import would (dataclasses look their module up there)
    try: spec.loader.exec_module(m)
    except BaseException: sys.modules.pop('fake_skyserver', None); raise
    return m


def bench(cat, url, workers, max_rate):
    "`(n_ok, seconds)` of one download of `cat` into a fresh directory"
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        m = download_images(cat, d, workers=workers, max_rate=max_rate, server=url, progress=False)
        return int((m.status == 'ok').sum()), time.perf_counter() - t


@call_parse
def main(n:int=120, # images per run (at most 400, the size of the shared sample)
         latency:float=0.1, # seconds added by the server to every request
         workers:Param('worker counts to time', int, nargs='+')=[1, 8],
         max_rate:float=1000., # rate cap of the downloader (requests/s)
        ):
    "Download speed of `metallicity-cnn download-images` against the local fake SkyServer with added latency"
    fake = _load_fake_skyserver()
    cat = fake.make_catalog(n)
    print(f"{len(cat)} cutouts of 128x128 from a local fake SkyServer, {latency*1000:.0f} ms added latency, "
          f"rate cap {max_rate:g}/s")
    with fake.FakeSkyServer(cat, latency=latency) as fs:
        for w in workers:
            k, dt = bench(cat, fs.url, w, max_rate)
            print(f"workers={w}: {k}/{len(cat)} images in {dt:.2f} s: {k/dt:.1f} images/s")
