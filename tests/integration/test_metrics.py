"""The Prometheus endpoint of a real daemon: /metrics in the text format
(promtool clean, no duplicate series, node_exporter's labels), /healthz,
other paths and methods, a Unix-socket listener, a taken port, broken
sensors, job metrics after inferences, and a real Prometheus server that
scrapes the daemon and serves hwopt_ series through its HTTP API."""

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import IO_TIMEOUT, REPO, SLOW, run, wait_for

FIXTURES = os.path.join(REPO, "tests", "fixtures")
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def laptop(port, **telemetry):
    t = {"sysfs_root": os.path.join(FIXTURES, "laptop", "sys"),
         "procfs_root": os.path.join(FIXTURES, "laptop", "proc"),
         "interval_ms": "200"}
    t.update(telemetry)
    return {"telemetry": t, "metrics": {"listen": "127.0.0.1:%d" % port}}


def get(url, timeout=IO_TIMEOUT):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def series(text):
    """{series: value} of a scrape; fails on a duplicate or a bad line."""
    out = {}
    for l in text.splitlines():
        if not l or l.startswith("#"):
            continue
        m = LINE.match(l)
        assert m, "not a sample line: %r" % l
        key = m.group(1) + (m.group(2) or "")
        assert key not in out, "duplicate series %s" % key
        out[key] = float(m.group(3))
    return out


def scrape_when(port, pred):
    """The first scrape whose series satisfy pred."""
    def attempt():
        st, _, text = get("http://127.0.0.1:%d/metrics" % port)
        s = series(text) if st == 200 else {}
        return (text, s) if s and pred(s) else None
    return wait_for(attempt, what="a scrape with the wanted series")


def test_metrics_text_format_and_node_exporter_labels(daemon):
    port = free_port()
    daemon(sections=laptop(port))
    text, s = scrape_when(port, lambda s: 'hwopt_collector_up{collector="thermal"}' in s)
    st, headers, _ = get("http://127.0.0.1:%d/metrics" % port)
    assert st == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert s['hwopt_collector_up{collector="thermal"}'] == 1
    assert any(k.startswith('hwopt_thermal_zone_temp_celsius{type="x86_pkg_temp",zone="')
               for k in s)
    assert any(k.startswith("hwopt_hwmon_temp_celsius{chip=") for k in s)
    assert any(k.startswith('hwopt_power_supply_capacity{power_supply="BAT0"}') for k in s)
    assert any(k.startswith('hwopt_power_supply_online{power_supply="AC"}') for k in s)
    assert any(k.startswith("hwopt_rapl_package_joules_total{") for k in s)
    assert any(k.startswith('hwopt_cpu_scaling_frequency_hertz{cpu="0"}') for k in s)
    assert any(k.startswith('hwopt_cpu_seconds_total{cpu="0",mode="idle"}') for k in s)
    assert 'hwopt_queue_depth{priority="interactive"}' in s
    assert "hwopt_workers" in s
    # Every family once, HELP and TYPE before its samples.
    fams = re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M)
    assert len(fams) == len({f for f, _ in fams})
    for name, typ in fams:
        if typ == "counter":
            assert name.endswith("_total"), name
    if shutil.which("promtool"):
        p = run(["promtool", "check", "metrics"], input=text)
        assert p.returncode == 0, p.stdout + p.stderr


def test_healthz_and_other_requests(daemon):
    port = free_port()
    daemon(sections=laptop(port))
    base = "http://127.0.0.1:%d" % port
    st, _, body = get(base + "/healthz")
    assert (st, body) == (200, "ok\n")
    assert get(base + "/nope")[0] == 404
    req = urllib.request.Request(base + "/metrics", data=b"x", method="POST")
    try:
        urllib.request.urlopen(req, timeout=IO_TIMEOUT)
        assert False, "POST was accepted"
    except urllib.error.HTTPError as e:
        assert e.code == 405
    # A client that sends half a request and stalls does not stop scrapes.
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /metr")
    assert get(base + "/metrics")[0] == 200
    s.close()


def test_unix_socket_listener(daemon, tmp_path):
    path = str(tmp_path / "metrics.sock")
    sections = laptop(0)
    sections["metrics"] = {"listen": path}
    d = daemon(sections=sections)
    wait_for(lambda: os.path.exists(path), what="the metrics socket")
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(IO_TIMEOUT)
    s.connect(path)
    s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    head, _, body = data.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.") and " 200 " in head.splitlines()[0]
    series(body)
    assert "hwopt_workers" in body
    d.stop()
    assert not os.path.exists(path)


def test_taken_port_leaves_the_daemon_serving(daemon):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    d = daemon(sections=laptop(port))
    assert d.result("status")["pid"] > 0
    d.wait_log("metrics endpoint off")
    s.close()


def test_broken_sensors_never_duplicate_or_fail(daemon, tmp_path):
    root = tmp_path / "laptop"
    shutil.copytree(os.path.join(FIXTURES, "laptop"), str(root), symlinks=True)
    (root / "sys/class/thermal/thermal_zone0/temp").write_text("garbage\n")
    (root / "sys/class/power_supply/BAT0/capacity").write_text("\xff\xfe\n")
    os.unlink(str(root / "sys/class/hwmon/hwmon0/name"))
    port = free_port()
    daemon(sections={"telemetry": {"sysfs_root": str(root / "sys"),
                                   "procfs_root": str(root / "proc"), "interval_ms": "200"},
                     "metrics": {"listen": "127.0.0.1:%d" % port}})
    text, s = scrape_when(port, lambda s: 'hwopt_collector_up{collector="thermal"}' in s)
    assert not any(k.startswith("hwopt_thermal_zone_temp_celsius") and 'zone="0"' in k
                   for k in s)
    assert not any(k.startswith('hwopt_power_supply_capacity{power_supply="BAT0"}') for k in s)
    if shutil.which("promtool"):
        p = run(["promtool", "check", "metrics"], input=text)
        assert p.returncode == 0, p.stdout + p.stderr


def test_job_metrics_after_inference(daemon, zoo):
    import numpy as np
    import hwopt
    port = free_port()
    d = daemon(sections=laptop(port))
    c = hwopt.connect(d.sock, timeout=IO_TIMEOUT)
    c.load_model("mlp", zoo.path("mlp"), timeout=60 * SLOW)
    x = zoo.random_input("mlp", np.random.default_rng(1))
    for _ in range(5):
        c.infer("mlp", {"x": x})
    c.close()
    _, s = scrape_when(port, lambda s: s.get('hwopt_jobs_total{model="mlp",outcome="ok"}') == 5)
    assert s['hwopt_job_queue_seconds_count{model="mlp"}'] == 5
    assert s['hwopt_job_compute_seconds_bucket{model="mlp",le="+Inf"}'] == 5
    assert s['hwopt_batch_size_bucket{model="mlp",le="1"}'] == 5
    assert s["hwopt_job_latency_seconds_count"] == 5


PROM_CONFIG = """
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: hwoptd
    static_configs:
      - targets: ['127.0.0.1:%d']
"""


@pytest.mark.skipif(not shutil.which("prometheus"), reason="Debian's prometheus not installed")
def test_real_prometheus_scrapes_hwoptd(daemon, tmp_path):
    port, prom_port = free_port(), free_port()
    daemon(sections=laptop(port))
    (tmp_path / "prometheus.yml").write_text(PROM_CONFIG % port)
    log = open(str(tmp_path / "prometheus.log"), "wb")
    p = subprocess.Popen(["prometheus", "--config.file=%s" % (tmp_path / "prometheus.yml"),
                          "--storage.tsdb.path=%s" % (tmp_path / "data"),
                          "--web.listen-address=127.0.0.1:%d" % prom_port],
                         stdout=log, stderr=subprocess.STDOUT)
    api = "http://127.0.0.1:%d/api/v1/" % prom_port
    def api_get(path):
        """The data of an API answer; None while Prometheus is not up."""
        try:
            st, _, body = get(api + path, timeout=2)
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            return None
        return json.loads(body)["data"] if st == 200 else None

    try:
        def up():
            r = (api_get("query?query=up") or {}).get("result")
            return r if r and r[0]["value"][1] == "1" else None
        wait_for(up, timeout=60 * SLOW, interval=0.5, what="prometheus scraping hwoptd")
        names = wait_for(
            lambda: [n for n in api_get("label/__name__/values") or [] if n.startswith("hwopt_")],
            timeout=60 * SLOW, interval=0.5, what="hwopt_ series in prometheus")
        for want in ("hwopt_collector_up", "hwopt_workers", "hwopt_thermal_zone_temp_celsius"):
            assert want in names, names
        st, _, body = get(api + 'query?query=hwopt_collector_up{collector="thermal"}')
        r = json.loads(body)["data"]["result"]
        assert r and r[0]["value"][1] == "1", body
    finally:
        p.terminate()
        p.wait(timeout=30)
        log.close()


def test_every_family_is_documented(daemon, zoo):
    """docs/metrics.md names every family a scrape of the laptop fixture
    (with a job run, so the job families appear) and the golden files of
    the three fixture machines contain."""
    import numpy as np
    import hwopt
    port = free_port()
    d = daemon(sections=laptop(port))
    c = hwopt.connect(d.sock, timeout=IO_TIMEOUT)
    c.load_model("mlp", zoo.path("mlp"), timeout=60 * SLOW)
    c.infer("mlp", {"x": zoo.random_input("mlp", np.random.default_rng(3))})
    c.close()
    text, _ = scrape_when(port, lambda s: 'hwopt_collector_up{collector="schedlat"}' in s and
                          'hwopt_jobs_total{model="mlp",outcome="ok"}' in s)
    fams = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    for name in ("laptop", "arm-server", "hybrid"):
        with open(os.path.join(FIXTURES, "golden", name + ".prom")) as f:
            fams |= set(re.findall(r"^# TYPE (\S+) ", f.read(), re.M))
    with open(os.path.join(REPO, "docs", "metrics.md")) as f:
        doc = f.read()
    documented = set(re.findall(r"`(hwopt_[a-z0-9_]+)`", doc))
    # RAPL families carry the zone's name: documented as hwopt_rapl_<zone>_...
    missing = sorted(f for f in fams if f not in documented and
                     not re.match(r"hwopt_rapl_[a-z]+_(joules_total|watts)$", f))
    assert not missing, "not in docs/metrics.md: %s" % missing
