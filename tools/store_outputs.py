"""Run notebooks and keep their small, meaningful outputs, so that they show their results on GitHub without being run.

`python tools/store_outputs.py nbs/07_evaluate.ipynb ...` executes each notebook in its own folder (as `nbdev_test` does,
cells flagged `slow` or `needs_bench` only with `--flags`, `#| eval: false` cells left out) and writes it
back with its outputs, trimmed to what a reader needs:

- images are re-encoded compactly, at most `--width` pixels wide: plots as 256-colour PNGs, photographs (whose PNG stays large) as JPEGs;
- text outputs longer than `--lines` lines are cut, with a line saying so; warnings and other stderr output are dropped;
- nothing is written when a cell fails (the error is reported, the notebook left as it was), except a flagged cell whose
  benchmark output is missing (`FileNotFoundError`): it is left without output, so no stale figure stays behind.

Then run `nbdev_clean` (it keeps outputs: `clear_all = False` in settings.ini), which is what CI's sync check runs.
"""
import argparse, base64, io, os, sys
from pathlib import Path
from PIL import Image
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbdev.process import extract_directives
from nbdev.config import get_config

def compact_image(data:str, width:int, max_png:int=60_000) -> tuple:
    "`(mime, base64)` of the base64 PNG `data` at most `width` pixels wide: a 256-colour palette PNG (plots), or a JPEG when that PNG is over `max_png` bytes (photographs)"
    im = Image.open(io.BytesIO(base64.b64decode(data))).convert('RGB')
    if im.width > width: im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    buf = io.BytesIO()
    im.quantize(256).save(buf, 'PNG', optimize=True)
    if buf.tell() <= max_png: return 'image/png', base64.b64encode(buf.getvalue()).decode()
    buf = io.BytesIO()
    im.save(buf, 'JPEG', quality=75, optimize=True)
    return 'image/jpeg', base64.b64encode(buf.getvalue()).decode()

def trim_output(o, width:int, lines:int):
    "`o` trimmed (compact images, cut text), or `None` for output not worth keeping (stderr)"
    if o.get('output_type') == 'stream':
        if o.get('name') == 'stderr': return None
        o['text'] = _cut(''.join(o['text']), lines)
        return o
    d = o.get('data', {})
    if 'image/png' in d:
        mime, d[mime] = compact_image(d.pop('image/png'), width)
    if 'text/plain' in d: d['text/plain'] = _cut(''.join(d['text/plain']), lines)
    if 'text/html' in d and len(''.join(d['text/html'])) > 20000: del d['text/html']
    return o

def _cut(txt, lines):
    ls = txt.splitlines(keepends=True)
    return txt if len(ls) <= lines else ''.join(ls[:lines]) + f'... ({len(ls) - lines} more lines)\n'

FLAGS = tuple(get_config().get('tst_flags', '').split()) # settings.ini tst_flags: cells nbdev_test runs only when asked

def _skipper(flags):
    "A `preproc` for `run_all` that skips the cells `nbdev_test` skips (`build_docs._no_eval`), the test flags in `flags` run"
    from build_docs import _no_eval
    skip_flags = [f for f in FLAGS if f not in flags]
    return lambda cell: _no_eval(cell, skip_flags)

def store(path:Path, width:int, lines:int, flags=()) -> bool:
    "Execute the notebook at `path` and write it back with trimmed outputs; False (nothing written) if a cell failed"
    nb = read_nb(path)
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        sh = CaptureShell(path)
        sh.run_all(nb, exc_stop=False, preproc=_skipper(flags))
    finally: os.chdir(cwd)
    for c in nb.cells:
        err = next((o for o in c.get('outputs', []) if o.get('output_type') == 'error'), None)
        if err is None: continue
        if err.get('ename') == 'FileNotFoundError' and any(f in extract_directives(c, remove=False) for f in FLAGS):
            c.outputs = [] # a flagged cell whose benchmark output is not there: no stale figure, no error
            print(f"{path}: no output for a {'/'.join(FLAGS)} cell whose input is missing ({err.get('evalue', '')[:120]})")
            continue
        print(f"{path}: not written, a cell failed: {err.get('ename')}: {err.get('evalue')}", file=sys.stderr)
        return False
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs = [o for o in (trim_output(o, width, lines) for o in c.get('outputs', [])) if o is not None]
    write_nb(nb, path.resolve())
    kb = path.stat().st_size / 1024
    print(f"{path}: outputs stored, {sum(bool(c.get('outputs')) for c in nb.cells if c.cell_type == 'code')} cells with output, {kb:.0f} KiB")
    return True

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--width', type=int, default=640, help='largest image width kept, in pixels')
    p.add_argument('--lines', type=int, default=30, help='longest text output kept, in lines')
    p.add_argument('--flags', nargs='*', default=[], choices=FLAGS, help='also run the cells with these test flags (needs_bench: when bench/out holds their inputs)')
    a = p.parse_args()
    ok = [store(nb, a.width, a.lines, a.flags) for nb in a.notebooks]
    sys.exit(0 if all(ok) else 1)
