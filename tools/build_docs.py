"""Build the documentation site from the notebooks, offline and without Quarto.

`python tools/build_docs.py` writes `_docs/index.html` (from `nbs/index.ipynb`) and one page per notebook, named as
nbdev names them (`00_core.ipynb` -> `core.html`), each with a sidebar listing the pages in notebook order.

By default every notebook is run, as `nbdev_test` runs it (in worker processes; cells flagged with a `tst_flags` flag
such as `slow`, and `eval: false` cells, are skipped and keep their stored outputs), together with the `show_doc` cells
nbdev adds after each exported function: the pages carry the API signatures, the examples' outputs and their figures.
`--no_exec` runs only what `nbdev_docs` runs (imports, exported cells, `show_doc`), so pages show the signatures and
the outputs stored in the notebooks. nbdev's own docs processors (those `nbdev_docs` applies before Quarto) hide
`#| hide`/`#| export` cells and link names to their docs; a small clean-up pass makes the processed notebook one
nbconvert accepts (plain cell metadata, joined outputs, Quarto options turned into nbconvert tags), and nbconvert
renders it with a sidebar added to its `lab` template and no external scripts (no MathJax: formulas stay as TeX).
A last pass over the whole site gives it what Quarto's would: a navbar with a client-side search box (`search-index.js`,
one entry per heading), a table of contents on each page, one shared `style.css`, unique element ids (an API entry keeps
its name), no link to an anchor that does not exist, and no "source" link into the repository, which is not published.
With Quarto installed, `nbdev_docs` builds the full site from the same notebooks; this script keeps
`nbs/sidebar.yml` and `nbs/nbdev.yml` up to date the way `nbdev_docs` does, and the offline sidebar follows `sidebar.yml`.
"""
from __future__ import annotations
import html, importlib, json, multiprocessing, os, re, shutil, signal, sys, time, uuid, warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml
from fastcore.script import anno_parser
from fastcore.xtras import str2bool, working_directory
from nbdev.config import get_config
from nbdev.process import extract_directives

ROOT = Path(__file__).resolve().parents[1]

# %% Which notebooks, in which order
def refresh_quarto_config(nbs:Path): # folder holding the notebooks
    "Regenerate `sidebar.yml` and `nbdev.yml` in `nbs` from the notebooks and settings.ini, as `nbdev_docs` does"
    from nbdev.quarto import nbdev_sidebar, refresh_quarto_yml
    with working_directory(ROOT):
        if Path(nbs).resolve()==get_config().nbs_path.resolve(): refresh_quarto_yml()
        nbdev_sidebar.__wrapped__(path=str(nbs))

def _flatten(contents, section=None):
    "(section, file) pairs of a Quarto sidebar `contents` list, sections flattened in order"
    for o in contents or []:
        if isinstance(o, str): yield section, o
        elif isinstance(o, dict):
            if 'href' in o: yield o.get('section', section), o['href']
            yield from _flatten(o.get('contents'), o.get('section', section))

def sidebar_notebooks(nbs:Path): # folder holding the notebooks and `sidebar.yml`
    "Notebooks listed in `nbs/sidebar.yml`, in its order, as (section, path) pairs"
    sb = yaml.safe_load((Path(nbs)/'sidebar.yml').read_text())
    res = []
    for section,f in _flatten(sb['website']['sidebar']['contents']):
        if f.endswith('.ipynb') and (Path(nbs)/f).exists(): res.append((section, Path(nbs)/f))
        else: warnings.warn(f'sidebar.yml entry {f!r} is not a notebook in {nbs}; the offline site leaves it out')
    return res

def front_matter(path:Path): # notebook
    "Title, description and output file of the notebook at `path`, as nbdev's `FrontmatterProc` reads them"
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    fm = NBProcessor(path, procs=FrontmatterProc, process=True).nb.frontmatter_
    from nbdev.doclinks import _nbpath2html
    return dict(title=str(fm.get('title', path.stem)), description=str(fm.get('description', '')),
                page=fm.get('output-file', _nbpath2html(path).name))

# %% Running and processing one notebook (in a worker process)
def _exec_proc(skip_flags, errors):
    "An nbdev `Processor` that runs every code cell as `nbdev_test` does, in place of nbdev's `exec_show_docs`"
    from nbdev.process import Processor
    from execnb.shell import CaptureShell
    class exec_cells(Processor):
        def begin(self):
            fm = getattr(self.nb, 'frontmatter_', {})
            self.skip = str2bool(fm.get('skip_exec', False))
            self.k = CaptureShell(self.nb.path_)
            self.k.run_cell('from nbdev.showdoc import show_doc')
            self.cwd = os.getcwd()
            os.chdir(Path(self.nb.path_).parent)  # as `nbdev_test` runs it
        def __call__(self, cell):
            if self.skip or errors or _no_eval(cell, skip_flags): return
            self.k.cell(cell)
            if self.k.exc: errors.append(f'cell {cell.idx_} raised {self.k.exc!r}:\n{cell.source}')
        def end(self): os.chdir(self.cwd)
    return exec_cells

def _no_eval(cell, skip_flags):
    "True where `nbdev_test` would not run `cell`: the one rule, for the docs build and `tools/store_outputs.py` alike"
    if cell.cell_type!='code' or 'nbdev_export'+'(' in cell.source: return True
    d = getattr(cell, 'directives_', None) or extract_directives(cell, remove=False)
    return d.get('eval:', [''])[0].lower()=='false' or bool(set(skip_flags) & d.keys())

def process_nb(src:Path, # notebook to process
               dest:Path, # where to write the processed notebook
               execute:bool=True): # run the notebook's cells (else only what nbdev runs for `show_doc`)
    "Run and process `src` with nbdev's docs processors into `dest`; return the error that stopped the run, if any"
    from nbdev.process import NBProcessor
    from nbdev.processors import FilterDefaults, exec_show_docs
    from execnb.nbio import write_nb
    os.environ['IN_TEST'] = '1'
    errors, procs = [], FilterDefaults().procs()
    if execute:
        skip_flags = get_config().get('tst_flags', '').split()
        procs = [_exec_proc(skip_flags, errors) if p is exec_show_docs else p for p in procs]
    try: nb = NBProcessor(src, procs=procs, process=True).nb
    except Exception as e:  # nbdev's exec_show_docs raises on a failing cell: keep the page, without outputs
        hint = ('' if isinstance(e, TimeoutError) else '\n(nbdev_docs fails here too: for `show_doc` it runs only the '
                'cells that define, import or show_doc something; keep imports in cells of their own)')
        errors.append(f'{type(e).__name__}: {e}{hint}')
        nb = NBProcessor(src, procs=[p for p in procs if p is not exec_show_docs], process=True).nb
    write_nb(nb, dest)
    return errors[0] if errors else None

# %% Running the notebooks, each in a worker process
def _job(src, dest, execute, timeout):
    "In a worker process: `process_nb`, stopped by an alarm after `timeout` seconds; return the error and seconds"
    def _alarm(*_): raise TimeoutError(f'the notebook run was stopped after {timeout} s (--timeout)')
    start = time.time()
    os.chdir(ROOT)  # nbdev finds settings.ini from the working directory
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try: err = process_nb(src, dest, execute)
    finally: signal.alarm(0)
    return err, round(time.time()-start, 1)

def run_nbs(srcs:list, # notebooks
            folder:Path, # where the processed notebooks go
            execute:bool=True, # run all cells, as `nbdev_test` does
            timeout:int=600, # seconds allowed per notebook
            n_workers:int=0): # worker processes (0: one per CPU core)
    "Processed notebook path (None when none was written) and run summary (`error`, `seconds`) for each of `srcs`"
    dests = [Path(folder)/f'{i:03d}_{s.name}' for i,s in enumerate(srcs)]
    ctx = multiprocessing.get_context('spawn')  # fresh interpreters; workers run several notebooks each, as in `nbdev_test`
    # The workers' IPython shells take over `__main__`, so the job is sent by this module's importable name
    job = importlib.import_module(Path(__file__).stem)._job
    res = []
    with ProcessPoolExecutor(min(n_workers or os.cpu_count() or 1, len(srcs)), mp_context=ctx) as ex:
        futs = [ex.submit(job, src, dest, execute, timeout) for src,dest in zip(srcs, dests)]
        for fut,dest in zip(futs, dests):
            try: err, secs = fut.result()
            except Exception as e: err, secs = f'the worker failed: {type(e).__name__}: {e}', None
            res.append((dest if dest.exists() else None, dict(error=err, seconds=secs)))
    return res

# %% Clean-up for nbconvert
_re_qdir = re.compile(r'^\s*#\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def _quarto_options(cell):
    "Remove leading Quarto `#| key: value` lines from a code cell; return them as a dict"
    lines, opts = cell['source'].splitlines(), {}
    while lines and (m := _re_qdir.match(lines[0])): opts[m[1]] = m[2].strip('"\''); lines.pop(0)
    cell['source'] = '\n'.join(lines)
    return opts

def _local_links(text:str, site:str):
    "Point links into the published site (`doc_host`+`doc_baseurl`) at the local pages, and drop Pandoc attributes"
    if site: text = text.replace(site.rstrip('/')+'/', '')
    return re.sub(r'(\]\([^)\s]*\))\{[^}\n]*\}', r'\1', text)

def _clean_md(src:str, site:str):
    "Markdown nbconvert renders: local links, no Quarto fenced-div markers (`:::`)"
    return '\n'.join(l for l in _local_links(src, site).splitlines() if not l.lstrip().startswith(':::'))

_re_warning = re.compile(r'^\S+\.py:\d+: (\w*(?:Warning|Error)): ')

def clean_stderr(text:str) -> str:
    "stderr as a reader needs it: warnings without the build machine's paths and source lines, each line once"
    out, after_warning = [], False
    for l in text.splitlines():
        if after_warning and l.startswith('  '): after_warning = False; continue # the source line Python prints under a warning
        after_warning = bool(_re_warning.match(l))
        l = _re_warning.sub(r'\1: ', l.replace(str(ROOT)+'/', ''))
        l = re.sub(r'(?:/[^\s:"]+)?/site-packages/', '', l)
        if l not in out: out.append(l)
    return '\n'.join(out) + ('\n' if text.endswith('\n') else '')

def _clean_output(o, site):
    "Output `o` as nbformat wants it (multi-line strings joined), links made local, stderr without machine paths"
    o.pop('transient', None)
    if isinstance(o.get('text'), list): o['text'] = ''.join(o['text'])
    if o.get('name') == 'stderr': o['text'] = clean_stderr(o['text'])
    if o.get('output_type') in ('execute_result','display_data'):
        o['data'] = {k:(''.join(v) if isinstance(v, list) and not k.endswith('json') else v) for k,v in o['data'].items()}
        for k in ('text/markdown','text/html'):
            if k in o['data']: o['data'][k] = _local_links(o['data'][k], site)
        o.setdefault('metadata', {})
        if o['output_type']=='execute_result': o.setdefault('execution_count', None)
    return o

_cell_keys = {'cell_type','id','metadata','source','attachments','outputs','execution_count'}

def clean_cell(cell:dict, site:str): # processed cell; published site URL
    "`cell` as nbconvert wants it, or None when Quarto would leave it out"
    cell['id'] = cell.get('id') or uuid.uuid4().hex[:8]
    src = cell.get('source', '')
    cell = {k:v for k,v in cell.items() if k in _cell_keys}
    cell['source'] = ''.join(src) if isinstance(src, list) else src
    cell['metadata'] = {}
    if cell['cell_type']=='raw': return None  # front matter: shown as the page title instead
    if cell['cell_type']=='markdown':
        cell['source'] = _clean_md(cell['source'], site)
        return cell if cell['source'].strip() and not cell['source'].lstrip().startswith('<!-- WARNING') else None
    opts = _quarto_options(cell)
    if opts.get('include')=='false': return None
    tags = (['remove_input'] if opts.get('echo')=='false' else []) + (['remove_output'] if opts.get('output')=='false' else [])
    if tags: cell['metadata']['tags'] = tags
    cell['execution_count'] = None
    cell['outputs'] = [_clean_output(o, site) for o in cell.get('outputs', [])]
    if not cell['source'].strip() and not cell['outputs']: return None
    return cell

def clean_nb(path:Path, # processed notebook
             title:str, # page title
             description:str=''): # one-line summary shown under the title
    "The processed notebook at `path` made valid for nbconvert, with the title as its first cell"
    import nbformat
    cfg = get_config()
    site = cfg.get('doc_host', '').rstrip('/') + cfg.get('doc_baseurl', '')
    d = json.loads(Path(path).read_text())
    cells = [c for c in (clean_cell(c, site) for c in d['cells']) if c]
    head = f'# {title}' + (f'\n\n> {_clean_md(description, site)}' if description else '')
    cells.insert(0, dict(cell_type='markdown', id='title', metadata={}, source=head))
    meta = {k:v for k,v in d.get('metadata', {}).items() if k in ('kernelspec','language_info')}
    nb = nbformat.from_dict(dict(cells=cells, metadata={**meta, 'title': title}, nbformat=4, nbformat_minor=5))
    nbformat.validate(nb)
    return nb

# %% Rendering
CSS = """
body.jp-Notebook { margin: 0; padding: 0; overflow: visible; }
nav.docs-sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 15rem; overflow-y: auto; box-sizing: border-box;
  padding: 1.5rem 1rem; background: #f7f7f9; border-right: 1px solid #e3e3e3; font-family: var(--jp-ui-font-family); }
nav.docs-sidebar .site-title { display: block; font-size: 1.25rem; font-weight: 600; color: #2780e3; text-decoration: none;
  margin-bottom: 1.25rem; }
nav.docs-sidebar .section { margin: 1rem 0 .25rem .5rem; font-size: .8rem; text-transform: uppercase; color: #777; }
nav.docs-sidebar ul { list-style: none; padding: 0; margin: 0; }
nav.docs-sidebar a.page-link { display: block; padding: .35rem .6rem; border-radius: 4px; color: #343a40;
  text-decoration: none; font-size: .95rem; }
nav.docs-sidebar a.page-link:hover { background: #e9ecef; }
nav.docs-sidebar a.page-link.active { background: #2780e3; color: #fff; }
main.docs-main { margin-left: 15rem; padding: 1rem 2.5rem 3rem; max-width: 62rem; }
main.docs-main h1 { font-size: 2.2rem; }
main.docs-main blockquote { border-left: none; padding-left: 0; margin-left: 0; color: #555; font-size: 1.15rem; }
.jp-MarkdownOutput h3 { border-bottom: 1px solid #eee; }
a.source-link { float: right; font-size: smaller; }
.jp-RenderedHTMLCommon hr { margin: 1.5rem 0 .5rem; }
.docs-main .jp-RenderedMarkdown .highlight { margin: .5rem 0 1rem; }
.docs-main .jp-RenderedMarkdown pre { background: #f7f7f9; padding: .6rem .8rem; border-radius: 4px; }
header.docs-navbar { position: fixed; top: 0; left: 0; right: 0; height: 3rem; z-index: 10; display: flex; align-items: center;
  gap: 1.5rem; padding: 0 1rem; background: #2780e3; font-family: var(--jp-ui-font-family); }
header.docs-navbar a { color: #fff; text-decoration: none; }
header.docs-navbar .site-title { font-size: 1.2rem; font-weight: 600; }
header.docs-navbar input { margin-left: auto; width: 16rem; padding: .3rem .5rem; border: 0; border-radius: 4px; }
ul.docs-results { position: fixed; top: 3rem; right: 1rem; z-index: 11; width: 26rem; max-height: 70vh; overflow-y: auto; margin: 0;
  padding: .25rem 0; list-style: none; background: #fff; border: 1px solid #ccc; border-radius: 4px; font-family: var(--jp-ui-font-family); }
ul.docs-results:empty { display: none; }
ul.docs-results a { display: block; padding: .35rem .7rem; color: #343a40; text-decoration: none; }
ul.docs-results a:hover { background: #e9ecef; } ul.docs-results small { color: #777; }
body.jp-Notebook { padding-top: 3rem; } nav.docs-sidebar { top: 3rem; }
nav.docs-toc { position: fixed; top: 4rem; right: 1rem; width: 13rem; max-height: calc(100vh - 5rem); overflow-y: auto;
  font-family: var(--jp-ui-font-family); font-size: .85rem; }
nav.docs-toc .toc-title { font-weight: 600; margin-bottom: .3rem; } nav.docs-toc ul { list-style: none; padding-left: 0; margin: 0; }
nav.docs-toc li.h3 { padding-left: .8rem; } nav.docs-toc a { color: #555; text-decoration: none; display: block; padding: .1rem 0; }
main.docs-main pre, main.docs-main .highlight { overflow-x: auto; } /* wide code lines scroll instead of being cut off */
@media (max-width: 90rem) { nav.docs-toc { display: none; } }
@media (max-width: 50rem) { nav.docs-sidebar { position: static; width: auto; } main.docs-main { margin-left: 0; } }
"""

TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style type="text/css">{{ resources.docs_css }}</style>{% endblock extra_css %}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{{ resources.docs_nav }}
<main class="docs-main">
{%- endblock body_header -%}
"""

def nav_html(pages:list, # dicts with `page`, `title` and `section`
             current:str, # file name of the page being written
             site_title:str): # shown above the links
    "The navbar (site title, the results and command-line pages, the search box) and the sidebar: one link per page, in notebook order, the current one marked active"
    items, section = [], None
    for p in pages:
        if p['section']!=section:
            section = p['section']
            if section: items.append(f'<li class="section">{html.escape(section)}</li>')
        active = ' active' if p['page']==current else ''
        items.append(f'<li><a class="page-link{active}" href="{html.escape(p["page"])}">{html.escape(p["title"])}</a></li>')
    bar = (f'<header class="docs-navbar"><a class="site-title" href="index.html">{html.escape(site_title)}</a>'
           '<a href="results.html">Results</a><a href="cli.html">Command line</a>'
           '<input id="docs-search" type="search" placeholder="Search the docs" aria-label="Search the docs" autocomplete="off">'
           '</header><ul class="docs-results" id="docs-results"></ul>')
    return f'{bar}<nav class="docs-sidebar"><ul>{"".join(items)}</ul></nav>'

def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.update(enabled=True, remove_input_tags={'remove_input'}, remove_all_outputs_tags={'remove_output'})
    return HTMLExporter(config=c, template_name='lab', extra_loaders=[DictLoader({'docs.html.j2': TEMPLATE})],
                        template_file='docs.html.j2', exclude_input_prompt=True, exclude_output_prompt=True,
                        embed_images=True)

def _fix_html(body:str):
    "Heading ids in lower case, as Quarto writes them, so nbdev's doc links (`core.html#nmad`) find them; source links"
    body = re.sub(r'<a href="([^"]+)">source</a>', r'<a class="source-link" href="\1">source</a>', body)
    body = re.sub(r'(<h[1-6] id=")([^"]+)"', lambda m: m[1]+m[2].lower()+'"', body)
    return re.sub(r'(<a class="anchor-link" href="#)([^"]+)"', lambda m: m[1]+m[2].lower()+'"', body)

def render_page(nb, # notebook from `clean_nb`
                nav:str, # sidebar HTML
                nbs:Path): # folder the notebook's relative image paths start from
    "HTML page for `nb`"
    body, _ = _exporter().from_notebook_node(nb, resources=dict(docs_nav=nav, docs_css=CSS,
                                                                 metadata=dict(name=nb.metadata['title'], path=str(nbs))))
    return _fix_html(body)

def count_images(nb):
    "Images nbconvert will show for `nb`: image outputs and markdown images"
    outs = sum(any(k.startswith('image/') for k in o.get('data', {})) for c in nb.cells
               if 'remove_output' not in c.metadata.get('tags', []) for o in c.get('outputs', []))
    md = sum(len(re.findall(r'!\[[^\]]*\]\(|<img ', c.source)) for c in nb.cells if c.cell_type=='markdown')
    return outs + md

# %% The site
def write_page(p:dict, # page: `title`, `description`, `page`, `error`
               dest:Path, # processed notebook, or None when processing failed
               folder:Path, # where the page goes
               nav:str, # sidebar HTML
               nbs:Path): # notebooks folder
    "Render the page `p` into `folder`; a page that could not be processed says why, so its link still works"
    if dest is None:
        import nbformat
        p['error'] = p['error'] or 'processing wrote no notebook'
        nb = nbformat.v4.new_notebook(metadata={'title': p['title']}, cells=[nbformat.v4.new_markdown_cell(
            f"# {p['title']}\n\nThis page could not be built:\n\n```\n{p['error']}\n```")])
    else: nb = clean_nb(dest, p['title'], p['description'])
    p['images'] = count_images(nb)
    (folder/p['page']).write_text(render_page(nb, nav, nbs), encoding='utf-8')

# %% Finishing the site: one stylesheet, unique ids, live anchors, a table of contents and a search index
SEARCH_JS = """
(function(){
  var box = document.getElementById('docs-search'), res = document.getElementById('docs-results');
  if (!box || !window.DOCS_INDEX) return;
  function esc(s){ return s.replace(/[&<>"]/g, function(c){ return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]; }); }
  box.addEventListener('input', function(){
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean), hits = [];
    if (words.length) DOCS_INDEX.forEach(function(e){
      var head = e.heading.toLowerCase(), text = head + ' ' + e.text.toLowerCase(), score = 0;
      for (var i = 0; i < words.length; i++) { if (text.indexOf(words[i]) < 0) return; score += head.indexOf(words[i]) >= 0 ? 10 : 1; }
      hits.push([score, e]);
    });
    hits.sort(function(a, b){ return b[0] - a[0]; });
    res.innerHTML = hits.slice(0, 15).map(function(h){ var e = h[1];
      return '<li><a href="' + e.url + '">' + esc(e.heading) + ' <small>' + esc(e.page) + '</small></a></li>'; }).join('');
  });
  box.addEventListener('keydown', function(ev){ if (ev.key === 'Escape') { box.value = ''; res.innerHTML = ''; } });
})();
"""

def _unique_ids(soup) -> int:
    "Give every element a unique id: of those sharing one, an API entry (a `show_doc` output) keeps it, the others get `-2`, `-3`...; return how many were renamed"
    from collections import defaultdict
    seen, n = defaultdict(list), 0
    for t in soup.find_all(id=True): seen[t['id']].append(t)
    for i, ts in seen.items():
        if len(ts) < 2: continue
        keep = next((t for t in ts if t.find_parent(class_='jp-OutputArea-output')), ts[0])
        for k, t in enumerate([t for t in ts if t is not keep], 2):
            t['id'] = f'{i}-{k}'; n += 1
            for a in t.find_all('a', class_='anchor-link', href=f'#{i}'): a['href'] = f"#{t['id']}"
    return n

def _sections(soup, page:str, title:str) -> list:
    "Search entries of a page: one per h1-h4 heading with an id, with the text up to the next heading"
    out = []
    for h in soup.select('main h1[id], main h2[id], main h3[id], main h4[id]'):
        text = []
        for el in h.find_all_next(string=True):
            if el.find_parent(['h1', 'h2', 'h3', 'h4']) and el.find_parent(['h1', 'h2', 'h3', 'h4']) is not h: break
            if el.find_parent(['script', 'style']) or el.find_parent(['h1', 'h2', 'h3', 'h4']) is h: continue
            text.append(el.strip())
            if sum(map(len, text)) > 600: break
        head = h.get_text(' ', strip=True).replace('¶', '').strip()
        out.append(dict(page=title, heading=head, url=f"{page}#{h['id']}", text=' '.join(t for t in text if t)[:600]))
    return out

def _toc(soup) -> str:
    "The page's table of contents: its h2 and h3 headings"
    items = [(h.name, h['id'], h.get_text(' ', strip=True).replace('¶', '').strip()) for h in soup.select('main h2[id], main h3[id]')]
    if len(items) < 2: return ''
    lis = ''.join(f'<li class="{n}"><a href="#{html.escape(i)}">{html.escape(t)}</a></li>' for n, i, t in items[:60])
    return f'<nav class="docs-toc"><div class="toc-title">On this page</div><ul>{lis}</ul></nav>'

def finish_site(folder:Path, # the written pages
                pages:list, # their dicts (`page`, `title`)
                quiet:bool=False): # print nothing
    "Site-wide pass: one stylesheet, unique ids, no link to a missing anchor or to a repository page, a table of contents, a search index"
    from bs4 import BeautifulSoup
    soups = {p['page']: BeautifulSoup((folder/p['page']).read_text(encoding='utf-8'), 'html.parser') for p in pages}
    css, index, renamed = [], [], 0
    for s in soups.values():
        for st in s.head.find_all('style'):
            if st.string not in css: css.append(st.string or '')
            st.decompose()
        s.head.append(BeautifulSoup('<link rel="stylesheet" href="style.css">', 'html.parser'))
        renamed += _unique_ids(s)
        for a in s.find_all('a', class_='source-link'): a.decompose() # the repository is not published: no links to it
    ids = {n: {t['id'] for t in s.find_all(id=True)} for n, s in soups.items()}
    dead = 0
    for n, s in soups.items():
        for a in s.find_all('a', href=True):
            page, hash_, frag = a['href'].partition('#')
            if '://' in page or not hash_ or (page or n) not in ids or frag in ids[page or n]: continue
            a.unwrap(); dead += 1 # a link to a name with no entry of its own (a private helper): its text stays
    for p in pages:
        s = soups[p['page']]
        if (toc := _toc(s)): s.find('main').insert_before(BeautifulSoup(toc, 'html.parser'))
        index += _sections(s, p['page'], p['title'])
        for src in ('search-index.js', 'search.js'): s.body.append(BeautifulSoup(f'<script src="{src}"></script>', 'html.parser'))
        (folder/p['page']).write_text(str(s), encoding='utf-8')
    (folder/'style.css').write_text('\n'.join(css), encoding='utf-8')
    (folder/'search-index.js').write_text('window.DOCS_INDEX = ' + json.dumps(index, ensure_ascii=False) + ';\n', encoding='utf-8')
    (folder/'search.js').write_text(SEARCH_JS, encoding='utf-8')
    if not quiet: print(f"site: {len(index)} sections indexed, {renamed} duplicate ids renamed, {dead} links to missing anchors unlinked")

def build_docs(nbs:str=None, # notebooks folder (default: settings.ini `nbs_path`)
               out:str=None, # site folder (default: settings.ini `doc_path`)
               execute:bool=True, # run the notebooks (else stored outputs and `show_doc` signatures only)
               timeout:int=600, # seconds allowed per notebook run
               n_workers:int=0, # notebooks run at once (0: one per CPU core)
               quiet:bool=False): # print nothing
    "Build the site into `out`; return one dict per page (`page`, `title`, `src`, `images`, `seconds`, `error`)"
    cfg = get_config(cfg_name='settings.ini', path=ROOT)
    nbs = Path(nbs or cfg.nbs_path).resolve()
    out = Path(out or cfg.doc_path).resolve()
    if out.exists() and any(out.iterdir()) and not (out/'index.html').exists():
        raise ValueError(f'{out} is not empty and holds no index.html: pass --out a new folder or an old docs site')
    refresh_quarto_config(nbs)
    pages = [dict(section=s, src=p, **front_matter(p)) for s,p in sidebar_notebooks(nbs)]
    if not pages: raise FileNotFoundError(f'no notebooks listed in {nbs}/sidebar.yml')
    tmp = out.with_name(f'.{out.name}.tmp')  # the site is written aside, then replaces `out` whole
    if tmp.exists(): shutil.rmtree(tmp)
    (tmp/'.proc').mkdir(parents=True)
    try:
        results = run_nbs([p['src'] for p in pages], tmp/'.proc', execute, timeout, n_workers)
        for p,(dest,info) in zip(pages, results):
            p.update(info)
            write_page(p, dest, tmp, nav_html(pages, p['page'], cfg.title), nbs)
            if not quiet: print(f"{p['src'].name} -> {out.name}/{p['page']} ({p['seconds']} s){' ERROR' if p['error'] else ''}")
        shutil.rmtree(tmp/'.proc')
        finish_site(tmp, pages, quiet)
        (tmp/'pages.json').write_text(json.dumps([{**p, 'src': str(p['src'])} for p in pages], indent=1), encoding='utf-8')
        if out.exists(): shutil.rmtree(out)
        os.replace(tmp, out)
    finally: shutil.rmtree(tmp, ignore_errors=True)
    for p in pages:
        if p['error'] and not quiet: print(f"\n{p['src'].name}: {p['error']}", file=sys.stderr)
    return pages

def read_pages(out:Path) -> list:
    "The page dicts `build_docs` returned for the site in `out` (from its `pages.json`)"
    return [{**p, 'src': Path(p['src'])} for p in json.loads((Path(out)/'pages.json').read_text(encoding='utf-8'))]

def main(out:str=None, # site folder (default: settings.ini `doc_path`, `_docs`)
         no_exec:bool=False, # don't run the notebooks: stored outputs and `show_doc` signatures only
         timeout:int=600, # seconds allowed per notebook run
         n_workers:int=0): # notebooks run at once (0: one per CPU core)
    "Build the documentation site offline (no Quarto) from the notebooks into `_docs/`"
    start = time.time()
    pages = build_docs(out=out, execute=not no_exec, timeout=timeout, n_workers=n_workers)
    bad = [p['src'].name for p in pages if p['error']]
    print(f"{len(pages)} pages in {time.time()-start:.0f} s" + (f"; errors in {', '.join(bad)}" if bad else ''))
    return 1 if bad else 0

if __name__=='__main__':
    args = vars(anno_parser(main).parse_args())
    sys.exit(main(**{k:v for k,v in args.items() if k not in ('pdb','xtra')}))
