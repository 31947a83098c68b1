"""The docs site: built offline by tools/build_docs.py; its HTML parsed, then opened in headless Chromium.

What the HTML says (titles, the sidebar, the API signatures, which images a page holds) is checked by parsing it; the
browser checks what only a browser can: that the pages render (the sidebar beside the text), that every image loads,
and that nothing is requested from outside. Chromium is driven over the DevTools protocol on a pipe
(`--remote-debugging-pipe`), so the test needs no Python package beyond the standard library and BeautifulSoup (which
nbconvert installs); the site is served on 127.0.0.1 and any request elsewhere fails the test.
.ci/run installs Debian's `chromium`; elsewhere the browser tests are skipped unless DOCS_TEST_REQUIRE_BROWSER=1.
"""
import base64, functools, http.server, json, os, re, select, shutil, subprocess, sys, tempfile, threading, time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
import build_docs, readme

CHROMIUM = os.environ.get('CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-extensions', '--disable-dev-shm-usage',
         '--hide-scrollbars', '--window-size=1280,900']

class Chromium:
    "Headless Chromium on a DevTools pipe: `goto` a page, `js` to evaluate, `screenshot` to save a PNG"
    def __init__(self, exe=CHROMIUM, timeout=60):
        assert exe, 'chromium not found: apt-get install chromium, or set CHROMIUM to the browser'
        self.timeout, self.n, self.buf, self.requests = timeout, 0, b'', []
        self.profile = tempfile.mkdtemp(prefix='chromium-')
        cmd_r, self._cmd_w = os.pipe()  # Chromium reads commands on its fd 3 and writes replies on its fd 4
        self._res_r, res_w = os.pipe()
        def _fds(): os.dup2(cmd_r, 3); os.dup2(res_w, 4)
        self.proc = subprocess.Popen([exe, *FLAGS, f'--user-data-dir={self.profile}', '--remote-debugging-pipe',
                                      'about:blank'], close_fds=False, preexec_fn=_fds,  # pipe fds are CLOEXEC
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r); os.close(res_w)
        page = next(t for t in self.send('Target.getTargets')['targetInfos'] if t['type']=='page')
        self.sid = self.send('Target.attachToTarget', targetId=page['targetId'], flatten=True)['sessionId']
        for d in ('Page', 'Network', 'Runtime'): self.send(f'{d}.enable', sid=self.sid)

    def _read(self):
        "Next message from the browser (a reply or an event); events are handled as they come"
        while b'\0' not in self.buf:
            if not select.select([self._res_r], [], [], self.timeout)[0]: raise TimeoutError('chromium stopped answering')
            chunk = os.read(self._res_r, 1<<20)
            if not chunk: raise EOFError('chromium exited')
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b'\0')
        msg = json.loads(msg)
        if msg.get('method')=='Network.requestWillBeSent': self.requests.append(msg['params']['request']['url'])
        return msg

    def send(self, method, sid=None, **params):
        "Send a DevTools command and wait for its reply"
        self.n += 1
        msg = dict(id=self.n, method=method, params=params, **({'sessionId': sid} if sid else {}))
        os.write(self._cmd_w, json.dumps(msg).encode()+b'\0')
        while (r := self._read()).get('id')!=self.n: pass
        if 'error' in r: raise RuntimeError(f'{method}: {r["error"]}')
        return r['result']

    def goto(self, url):
        "Open `url` and wait for its load event"
        self.send('Page.navigate', sid=self.sid, url=url)
        while self._read().get('method')!='Page.loadEventFired': pass

    def js(self, expr):
        "Value of the JavaScript expression `expr` in the page"
        r = self.send('Runtime.evaluate', sid=self.sid, expression=expr, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise RuntimeError(f'{expr}: {r["exceptionDetails"]}')
        return r['result'].get('value')

    def screenshot(self, path, full=False):
        "Save the page (the whole page when `full`) as a PNG at `path`"
        data = self.send('Page.captureScreenshot', sid=self.sid, format='png', captureBeyondViewport=full)['data']
        Path(path).write_bytes(base64.b64decode(data))

    def close(self):
        try: self.send('Browser.close')
        except (EOFError, TimeoutError, RuntimeError, OSError): pass
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        os.close(self._cmd_w); os.close(self._res_r)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self): return self
    def __exit__(self, *a): self.close()

@contextmanager
def serve(folder):
    "Serve `folder` on 127.0.0.1 (a free port) in a thread; yield the base URL"
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}'
    finally: srv.shutdown(); srv.server_close()

def _signature(h):
    "Text of the code blocks after heading `h`, up to the next heading: the `show_doc` signature"
    sig = ''
    for e in h.find_next_siblings():
        if re.fullmatch(r'h[1-4]', e.name): break
        if e.name == 'pre' or e.find('pre'): sig += e.get_text()
    return sig

def page_info(path:Path):
    "What the HTML of the page at `path` says: title, heading, sidebar links, images and API signatures"
    soup = BeautifulSoup(Path(path).read_text(encoding='utf-8'), 'html.parser')
    main = soup.select_one('main')
    return dict(title=soup.title.get_text(), h1=main.h1.get_text().replace('¶', '').strip(),
                nav=[dict(href=a['href'], text=a.get_text().strip(), active='active' in a['class'])
                     for a in soup.select('nav.docs-sidebar a.page-link')],
                imgs=[i.get('src', '')[:80] for i in soup.find_all('img')],
                headings={h['id']: _signature(h) for h in main.select('h3[id], h4[id]')})

def _public_api():
    "Public top-level functions and classes per docs page, from nbdev's symbol index (`_modidx.py`) and each module's `__all__`"
    import importlib
    from metallicity_cnn._modidx import d
    res = {}
    for mod,syms in d['syms'].items():
        public = set(getattr(importlib.import_module(mod), '__all__', []))
        for sym,(link,_) in syms.items():
            name = sym[len(mod)+1:]
            if '.' in name or name.startswith('_') or name not in public: continue  # methods, private helpers, `#| exporti` names
            page, anchor = link.split('#')
            res.setdefault(page, {})[anchor] = name
    return res

def check_pages(out:Path, pages:list):
    "Parse every page of the site in `out`: title, heading and sidebar as `pages` says; return per-page info"
    res = {p['page']: page_info(out/p['page']) for p in pages}
    titles = [p['title'] for p in pages]
    for p in pages:
        info = res[p['page']]
        assert info['title']==p['title'] and info['h1']==p['title'], (p['page'], info['title'], info['h1'])
        assert [n['text'] for n in info['nav']]==titles, f"{p['page']}: the sidebar lists the pages in notebook order"
        assert [n['href'] for n in info['nav']]==[q['page'] for q in pages], f"{p['page']}: sidebar links"
        assert [n['text'] for n in info['nav'] if n['active']]==[p['title']], f"{p['page']}: its own link is marked"
        assert len(info['imgs'])==p['images'], f"{p['page']}: {len(info['imgs'])} images, the notebook has {p['images']}"
    return res

PAGE_JS = """(() => {
  const nav = document.querySelector('nav.docs-sidebar').getBoundingClientRect(), main = document.querySelector('main').getBoundingClientRect();
  return {imgs: [...document.images].map(i => ({src: i.src.slice(0, 80), ok: i.complete && i.naturalWidth > 0})),
          nav: [nav.left, nav.width, nav.height], main_left: main.left, text: document.body.innerText.length};
})()"""

def check_in_browser(out:Path, pages:list, shots:Path=None):
    "Open every page of the site in `out` in Chromium: it renders (sidebar beside the text), every image loads, nothing comes from outside"
    with serve(out) as base, Chromium() as b:
        for i,p in enumerate(pages):
            b.goto(f"{base}/{p['page']}")
            info = b.js(PAGE_JS)
            left, width, height = info['nav']
            assert left==0 and width > 150 and height > 400 and info['main_left'] >= width, (p['page'], info)
            assert info['text'] > 2*len(p['title']), f"{p['page']}: no text rendered"
            assert not [m for m in info['imgs'] if not m['ok']], f"{p['page']}: broken images {info['imgs']}"
            assert len(info['imgs'])==p['images'], p['page']
            if shots and i < 2: b.screenshot(shots/('screenshot.png' if i==0 else 'screenshot-api.png'))
        outside = [u for u in b.requests if urlparse(u).hostname not in ('127.0.0.1', None) and not u.startswith('data:')]
        assert not outside, f'the site loads resources from outside: {outside[:5]}'

def _browser():
    "Skip the rest of a test without Chromium, unless DOCS_TEST_REQUIRE_BROWSER=1 (CI), where it fails instead"
    if not CHROMIUM and os.environ.get('DOCS_TEST_REQUIRE_BROWSER')!='1': pytest.skip('no chromium on PATH (apt-get install chromium)')

SITE = Path(os.environ.get('DOCS_SITE') or ROOT/'_docs') # CI builds the site once, executing the notebooks, and names it here

@pytest.fixture(scope='module')
def site():
    """The project's site: the one in $DOCS_SITE (CI's executing build, whose pages it lists in `pages.json`), else built
    into _docs/ as `nbdev_docs` would process it (`python tools/build_docs.py --no_exec`)"""
    if os.environ.get('DOCS_SITE'): return build_docs.read_pages(SITE)
    start = time.time()
    pages = build_docs.build_docs(execute=False, quiet=True)
    print(f'docs built in {time.time()-start:.0f} s')
    return pages

def test_build_writes_every_notebook(site):
    "One page per notebook, index first, named as nbdev names them; nbdev's docs processing went through everywhere"
    out = SITE
    nbs = sorted(p.name for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.', 'index.')))
    assert [p['src'].name for p in site]==['index.ipynb']+nbs, 'index first, then the notebooks in file name order'
    assert site[0]['page']=='index.html' and (out/'index.html').exists()
    for p in site: assert (out/p['page']).stat().st_size > 1000, p['page']
    bad = {p['src'].name: p['error'] for p in site if p['error']}
    assert not bad, f'nbdev could not process these notebooks for the docs: {bad}'

def test_site_pages(site):
    "Every page has its title and the same sidebar, every exported name its show_doc heading and signature"
    info = check_pages(SITE, site)
    failed = {p['page'] for p in site if p['error']}  # reported by test_build_writes_every_notebook
    missing = [f'{page}: {name}' for page,syms in _public_api().items() if page in info and page not in failed
               for anchor,name in syms.items()
               if not re.search(rf'\b(def|class)\s+{re.escape(name)}\b', info[page]['headings'].get(anchor, ''))]
    assert not missing, f'exported names without a show_doc heading and signature: {missing}'
    assert sum(len(i['headings']) for i in info.values()) > 50, 'API signatures on the pages'

def test_site_navigation(site):
    "Ids unique on each page, every internal anchor alive, no link into the unpublished repository, one stylesheet, a search box and a table of contents"
    out = SITE
    soups = {p['page']: BeautifulSoup((out/p['page']).read_text(encoding='utf-8'), 'html.parser') for p in site}
    ids = {n: [t['id'] for t in s.find_all(id=True)] for n, s in soups.items()}
    dup = {n: sorted({i for i in v if v.count(i) > 1}) for n, v in ids.items() if len(v) != len(set(v))}
    assert not dup, f'duplicate ids: {dup}'
    git = build_docs.get_config(cfg_name='settings.ini', path=ROOT).git_url
    dead, repo = [], []
    for n, s in soups.items():
        for a in s.find_all('a', href=True):
            if a['href'].startswith(git): repo.append((n, a['href']))
            page, hash_, frag = a['href'].partition('#')
            if '://' not in page and hash_ and frag not in ids.get(page or n, []): dead.append((n, a['href']))
    assert not dead, f'links to anchors that do not exist: {dead[:5]}'
    assert not repo, f'links into {git}, which is not published: {repo[:5]}'
    assert soups['predict.html'].find(id='predict').find_parent(class_='jp-OutputArea-output'), 'predict.html#predict is the API entry'
    for n, s in soups.items():
        assert not s.head.find('style') and s.head.find('link', href='style.css'), f'{n}: the stylesheet is one shared file'
        assert s.find('input', id='docs-search') and s.find('script', src='search-index.js'), f'{n}: a search box'
    assert [a['href'] for a in soups['predict.html'].select('nav.docs-toc a')][:2] == ['#predicting-a-catalogue', '#test-time-augmentation'] # the page starts with what a user calls
    index = json.loads((out/'search-index.js').read_text(encoding='utf-8').split('=', 1)[1].strip().rstrip(';'))
    assert {e['url'].split('#')[0] for e in index} == set(soups), 'every page is in the search index'
    assert {'heading': 'predict', 'url': 'predict.html#predict'}.items() <= next(e for e in index if e['url'] == 'predict.html#predict').items()

def test_stderr_cleaned():
    "A warning in a page's stderr box shows its category and message, not the build machine's paths, and once"
    site_pkgs = '/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/'
    raw = (f"{ROOT}/metallicity_cnn/predict.py:401: UserWarning: the images are 64 px cutouts\n  warnings.warn(f\"the images\")\n"
           f"{site_pkgs}fastai/learner.py:80: FutureWarning: x is deprecated\n  warnings.warn(\n"
           f"{ROOT}/metallicity_cnn/predict.py:401: UserWarning: the images are 64 px cutouts\n  warnings.warn(f\"the images\")\n")
    assert build_docs.clean_stderr(raw) == "UserWarning: the images are 64 px cutouts\nFutureWarning: x is deprecated\n"

SEARCH_JS = """(() => { const b = document.getElementById('docs-search'); b.value = 'mass metallicity relation';
  b.dispatchEvent(new Event('input')); return [...document.querySelectorAll('#docs-results a')].map(a => a.getAttribute('href')); })()"""

def test_site_in_browser(site):
    "Every page renders with the sidebar beside the text, every image loads, nothing is requested from outside; the search box finds sections"
    _browser()
    out = SITE
    check_in_browser(out, site, shots=out)
    assert (out/'screenshot.png').stat().st_size > 10_000
    with serve(out) as base, Chromium() as b:
        b.goto(f'{base}/index.html')
        hits = b.js(SEARCH_JS)
        assert hits and all('.html#' in h for h in hits) and any(h.startswith('relations.html#') for h in hits), hits

PNG = ('iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAF0lEQVR4nGP8z4AfMBGQH1UwqmBoKQAAVvIBEN2Rr2oAAAAASUVORK5CYII=')

def _nb(cells): return dict(cells=cells, metadata=dict(kernelspec=dict(name='python3', display_name='python3',
                                                                             language='python')), nbformat=4, nbformat_minor=5)
def _md(src, i): return dict(cell_type='markdown', id=f'm{i}', metadata={}, source=src)
def _code(src, i, outputs=()): return dict(cell_type='code', id=f'c{i}', metadata={}, execution_count=None,
                                          source=src, outputs=list(outputs))

def test_figures(tmp_path):
    "Stored figures, figures the examples draw, and images next to the notebook are on the page and show in the browser"
    nbs = tmp_path/'nbs'; nbs.mkdir()
    (nbs/'fig.png').write_bytes(base64.b64decode(PNG))
    stored = dict(output_type='display_data', metadata={}, data={'image/png': PNG, 'text/plain': '<Figure>'})
    (nbs/'index.ipynb').write_text(json.dumps(_nb([_md('# Figures\n\n> A page of pictures', 0),
        _md('A picture beside the notebook: ![a square](fig.png)', 1),
        _code('#| slow\nraise RuntimeError("slow cells are not run")', 2, [stored]),
        _code('import matplotlib.pyplot as plt', 3),
        _code("plt.plot([1, 2, 3]); plt.title('drawn while building');", 4)])))
    (nbs/'01_more.ipynb').write_text(json.dumps(_nb([_md('# More\n\n> Second page', 0), _code('print(1+1)', 1)])))
    pages = build_docs.build_docs(nbs=nbs, out=tmp_path/'site', quiet=True)
    assert [(p['title'], p['page'], p['error']) for p in pages]==[('Figures', 'index.html', None), ('More', 'more.html', None)]
    assert pages[0]['images']==3
    check_pages(tmp_path/'site', pages)
    assert '2' in (tmp_path/'site'/'more.html').read_text()
    _browser()
    check_in_browser(tmp_path/'site', pages)

def test_readme_in_sync():
    "README.md is generated from nbs/index.ipynb and its quick start is the two-line sh block .ci/run runs"
    text = readme.readme_text(ROOT/'nbs'/'index.ipynb')
    assert (ROOT/'README.md').read_text()==text, 'README.md is out of date: python tools/readme.py'
    block = re.search(r'^```sh\n(.*?)^```', text, re.M | re.S)[1].splitlines()
    assert len(block)==2 and 'metallicity-cnn demo' in block[0] and 'pytest' in block[1]
