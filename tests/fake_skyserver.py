"""A SkyServer look-alike on 127.0.0.1 for tests and benchmarks, answering in the shapes of the real SkyServerWS (the
sources are cited in nbs/02_sdss.ipynb), serving the real images of the SDSS sample shipped with the package, with injectable faults and
latency.

SQL search (`format=csv`): a `#Table1` line, a header and the rows; the query runs as spExecuteSQL would run it: a query
without TOP gets `TOP max_rows`, and a TOP above `max_rows` or a statement that is not a SELECT is refused with a one-column
`error_message` table (HTTP 200). A table outside `tables` is an SQL error: HTTP 500 with SkyServer's JSON body
(`ErrorCode`, `ErrorType`, `ErrorMessage`, `LogMessageID`, `LogTime`).
Cutouts: width and height clamped to 64-2048 (the image is served at the clamped size); a position that matches no galaxy
is outside the footprint: HTTP 404 "NOT FOUND. Requested (ra, dec) is outside the SDSS footprint." with a JPEG body.

Faults are given per key (an objID for cutouts, 'sql' for queries) as a list consumed one per request; `always` is the
fault of every request whose list is empty (a server that is down). Fault names:
  '500' (queries: an SQL error, HTTP 500 + JSON; cutouts: ImgCutout's own failure, HTTP 500 + JPEG),
  'sqltimeout' (HTTP 500 + JSON with SQL Server's timeout message, as after SkyServer's 600 s),
  'throttle' (spExecuteSQL's "Maximum 60 queries allowed per minute" error table, HTTP 200),
  '502', '503', '504' (an HTML page from the front end), '429' (with Retry-After: `retry_after`),
  'slow' (waits `slow_s` before answering, to exceed the client's timeout), 'truncated' (sends half the body, then
  closes), 'blank' (a uniform image of the requested size), 'html' (HTTP 200 with an HTML error page),
  'small' (a 64x64 image whatever the size asked)."""
import io, json, re, socket, time, threading, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import numpy as np, pandas as pd
from PIL import Image
from metallicity_cnn.core import example_sample

SQL_PATH, CUTOUT_PATH = '/SkyServerWS/SearchTools/SqlSearch', '/SkyServerWS/ImgCutout/getjpeg'
TABLES = ('SpecObj', 'Galaxy', 'GalSpecInfo', 'GalSpecExtra')
OFF_FOOTPRINT = 'NOT FOUND. Requested (ra, dec) is outside the SDSS footprint.'
TIMEOUT_MESSAGE = ('Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the '
                   'server is not responding.')
PHRASES = {502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'}


def make_catalog(n=None, start=0):
    "Rows of the shipped sample with made-up, distinct `specObjID`, `ra`, `dec` and `petroR90_r` (the sample has none)"
    df = pd.read_csv(example_sample()/"catalog.csv", dtype={'objID': str}).iloc[start:None if n is None else start+n]
    df = df.reset_index(drop=True)
    i = np.arange(start, start + len(df))
    df['specObjID'] = [str(299489677444933632 + 1000*k) for k in i]
    df['ra'], df['dec'] = np.round(120 + i*0.01, 5), np.round(30 - i*0.005, 5)
    df['petroR90_r'] = np.round(3 + (i*37 % 100)/10, 2)  # 3.0 to 12.9 arcsec
    return df[['objID', 'specObjID', 'ra', 'dec', 'petroR90_r', 'oh_p50']]


def _pos(ra, dec): return f'{float(ra):.5f},{float(dec):.5f}'

def _jpeg(im):
    b = io.BytesIO(); im.save(b, 'JPEG', quality=90)
    return b.getvalue()

def error_json(message):
    "SkyServer's JSON error body (ExceptionHandleAttribute.OnException in ExceptionFilter/CustomFilter.cs)"
    return json.dumps(dict(ErrorCode=500, ErrorType='InternalServerError', ErrorMessage=message,
                           LogMessageID='00000000-0000-0000-0000-000000000000', LogTime='2026-01-01T00:00:00.000Z'))


class FakeSkyServer:
    "Threaded HTTP server answering SkyServer's SQL search (keyset pages of `catalog`) and cutouts; use as a context manager"
    def __init__(self, catalog, latency=0., slow_s=1., retry_after=1, max_rows=500_000, faults=None, always=None,
                 tables=TABLES):
        self.catalog = catalog.assign(_key=[(int(o), int(s)) for o, s in zip(catalog.objID, catalog.specObjID)]).sort_values('_key')
        self.by_pos = {_pos(r.ra, r.dec): r.objID for r in catalog.itertuples()}
        self.latency, self.slow_s, self.retry_after, self.max_rows = latency, slow_s, retry_after, max_rows
        self.faults, self.always, self.tables = dict(faults or {}), always, {t.lower() for t in tables}
        self.log, self._lock, self._cache = [], threading.Lock(), {}
        self.images = example_sample()/'images'

    def __enter__(self):
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.httpd.daemon_threads, self.httpd.fake = True, self
        self.httpd.handle_error = lambda request, addr: None  # clients that time out close their end: not an error
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f'http://127.0.0.1:{self.httpd.server_port}'
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown(); self.httpd.server_close()

    def next_fault(self, key, q):
        "Record a request for `key` with query `q` and return the fault to inject into it (or None)"
        with self._lock:
            todo = self.faults.get(key) or []
            fault = todo.pop(0) if todo else self.always
            self.log.append(dict(t=time.monotonic(), key=key, fault=fault, q=q))
        return fault

    def requests_for(self, key=None):
        "Logged requests, all or those for `key`"
        return [r for r in self.log if key is None or r['key'] == key]

    def image(self, oid, size):
        "JPEG bytes of the sample image of `oid` at `size` pixels"
        if (oid, size) not in self._cache:
            data = (self.images/f'{oid}.jpg').read_bytes()
            if size != 128: data = _jpeg(Image.open(io.BytesIO(data)).convert('RGB').resize((size, size)))
            self._cache[oid, size] = data
        return self._cache[oid, size]

    def sql_answer(self, cmd):
        "`(status, body)` of spExecuteSQL running a query written by `selection_sql`"
        if not cmd.lstrip().lower().startswith('select '): return 200, f'#Table1\nerror_message\nerror: must be a select statement: {cmd}\n'
        bad = [t for t in re.findall(r'(?:FROM|JOIN)\s+(\w+)', cmd, re.I) if t.lower() not in self.tables]
        if bad: return 500, error_json(f"Invalid object name '{bad[0]}'.")
        top = re.search(r'TOP (\d+)', cmd, re.I)
        if top and int(top[1]) > self.max_rows:
            return 200, f"#Table1\nerror_message\nerror: limit is  top {self.max_rows} {' '.join(cmd.split())}\n"
        after = re.search(r'g\.objID > (\d+) OR \(g\.objID = \d+ AND s\.specObjID > (\d+)\)', cmd)
        df = self.catalog
        if after: df = df[df._key > (int(after[1]), int(after[2]))]
        return 200, '#Table1\n' + df.drop(columns='_key').head(int(top[1]) if top else self.max_rows).to_csv(index=False)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *args): pass

    def setup(self):
        super().setup()  # headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms to each
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _send(self, status, body, ctype='image/jpeg', headers=(), cut=False, reason=None):
        if isinstance(body, str): body = body.encode()
        self.send_response(status, reason)
        self.send_header('Content-Type', ctype); self.send_header('Content-Length', str(len(body)))
        for k, v in headers: self.send_header(k, v)
        if self.headers.get('Connection', '').lower() == 'close': self.send_header('Connection', 'close')  # as IIS does
        self.end_headers()
        if cut:
            self.wfile.write(body[:len(body)//2]); self.wfile.flush(); self.close_connection = True
        else: self.wfile.write(body)

    def do_GET(self):
        fake = self.server.fake
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == SQL_PATH: key = 'sql'
        elif url.path == CUTOUT_PATH: key = fake.by_pos.get(_pos(q['ra'], q['dec']), 'outside')
        else: return self._send(404, '<html><body>The resource cannot be found.</body></html>', 'text/html')
        fault = fake.next_fault(key, q)
        if fake.latency: time.sleep(fake.latency)
        try: self._answer(fake, key, q, fault)
        except (BrokenPipeError, ConnectionResetError): self.close_connection = True

    def _answer(self, fake, key, q, fault):
        if fault == 'slow': time.sleep(fake.slow_s)
        if fault in ('502', '503', '504'):
            s = int(fault); return self._send(s, f'<html><body><h1>{PHRASES[s]}</h1></body></html>', 'text/html')
        if fault == '429': return self._send(429, 'Too Many Requests', 'text/plain', [('Retry-After', str(fake.retry_after))])
        if fault == 'html': return self._send(200, '<html><body><h1>Server Error in /SkyServerWS</h1>Runtime Error</body></html>', 'text/html')
        if key == 'sql': return self._sql(fake, q, fault)
        return self._cutout(fake, key, q, fault)

    def _sql(self, fake, q, fault):
        json_ct = 'application/json; charset=utf-8'
        if fault == '500': return self._send(500, error_json("Invalid column name 'rChi3'."), json_ct, reason='InternalServerError')
        if fault == 'sqltimeout': return self._send(500, error_json(TIMEOUT_MESSAGE), json_ct, reason='InternalServerError')
        if fault == 'throttle':
            return self._send(200, '#Table1\nerror_message\nERROR: Maximum 60 queries allowed per minute. Rejected query: '
                                   + ' '.join(q['cmd'].split()) + '\n', 'text/plain')
        status, body = fake.sql_answer(q['cmd'])
        if status == 500: return self._send(500, body, json_ct, reason='InternalServerError')
        self._send(200, body, 'text/plain', cut=fault == 'truncated')

    def _cutout(self, fake, key, q, fault):
        side = max(64, min(2048, int(q.get('width', 128))))  # ImgCutout.validateInput clamps width and height
        grey = _jpeg(Image.new('RGB', (side, side), (30, 30, 30)))
        if fault == '500': return self._send(500, grey, reason='INTERNAL SERVER ERROR. The frames could not be read.')
        if key == 'outside': return self._send(404, grey, reason=OFF_FOOTPRINT)
        if fault == 'blank': body = grey
        elif fault == 'small': body = fake.image(key, 64)
        else: body = fake.image(key, side)
        self._send(200, body, cut=fault == 'truncated')
