"""Device profiles and first-start autotuning ([policy] autotune): a model
whose config leaves threads_per_instance unset is measured once, the
result is applied and cached in <state_dir>/autotune.json, and a restart
takes it from the cache; a corrupt cache is replaced; a model with its own
threads is left alone; a model unloaded while measured is dropped safely.
Device profiles: a procfs root whose cpuinfo matches a profile of
etc/devices fills what [model] sections leave unset (tuning_source
"device:NAME"), shown under topology's "device"."""

import json
import os
import stat

from conftest import REPO, wait_for
from jobs_common import LOAD_TIMEOUT, check_close, connect, load

import numpy as np

DEVICES = os.path.join(REPO, "etc", "devices")
CPUINFO = os.path.join(REPO, "tests", "fixtures", "cpuinfo")
WORKERS = 2


def sections(zoo, **models):
    """Autotuning on, two workers (thread counts 1 and 2 are measured), and
    the named models of the zoo with their extra keys."""
    s = {"policy": {"autotune": "true"}, "scheduler": {"workers": WORKERS}}
    for name, keys in models.items():
        s["model " + name] = dict({"path": zoo.path(name)}, **keys)
    return s


def entries(c):
    return {m["name"]: m for m in c.models()}


def wait_tuned(c, name, timeout=LOAD_TIMEOUT):
    """model.list's entry of name once it carries the autotune figures."""
    def tuned():
        m = entries(c).get(name)
        return m if m and m["state"] == "ready" and "chosen" in m.get("autotune", {}) else None
    return wait_for(tuned, timeout=timeout, interval=0.05, what="%s autotuned" % name)


def wait_ready(c, names):
    def ready():
        ms = entries(c)
        return ms if set(names) <= set(ms) and all(ms[n]["state"] == "ready" for n in names) \
            else None
    return wait_for(ready, timeout=LOAD_TIMEOUT, interval=0.05, what="%s ready" % (names,))


def check_figures(entry):
    at = entry["autotune"]
    assert set(at["threads"]) == {"1", str(WORKERS)}, at
    assert all(isinstance(v, float) and v > 0 for v in at["threads"].values()), at
    best = min(at["threads"].values())
    # The smallest count within 10% of the best.
    want = min(int(t) for t, v in at["threads"].items() if v <= best * 1.10)
    assert at["chosen"] == want, at
    assert entry["threads_per_instance"] == at["chosen"], entry
    assert entry["tuning_source"]["threads_per_instance"] == "autotune", entry
    return at


def read_cache(d):
    path = os.path.join(d.state_dir, "autotune.json")
    with open(path) as f:
        return path, json.load(f)


def test_measured_cached_and_reused(daemon, zoo):
    s = sections(zoo, mlp={}, slow={})
    d = daemon(name="first", sections=s)
    with connect(d) as c:
        mlp = check_figures(wait_tuned(c, "mlp"))
        slow = check_figures(wait_tuned(c, "slow"))
        assert mlp["from_cache"] is False and slow["from_cache"] is False
        e = entries(c)["mlp"]
        assert e["tuning_source"]["max_batch"] == "default"
        assert e["tuning_source"]["batch_delay_us"] == "default"
        # The model serves with the chosen threads.
        rng = np.random.default_rng(3)
        x = zoo.random_input("mlp", rng, rows=2)
        check_close(c.infer("mlp", {"x": x})["probs"], zoo.ref("mlp", x), "mlp tuned")
    log = d.log_text()
    for name, at in (("mlp", mlp), ("slow", slow)):
        assert "autotune: model %s: measuring threads 1, 2" % name in log, log
        line = "autotune: model %s: threads 1: " % name
        assert line in log, log
        assert "\u2192 %d" % at["chosen"] in log.split(line, 1)[1].splitlines()[0], log
    path, cache = read_cache(d)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert cache["version"] == 1
    by_path = {e["path"]: e for e in cache["entries"]}
    for name, at in (("mlp", mlp), ("slow", slow)):
        e = by_path[os.path.realpath(zoo.path(name))]
        assert e["workers"] == WORKERS and e["precision"] == "fp32", e
        assert e["size"] == os.path.getsize(zoo.path(name)), e
        assert e["chosen"] == at["chosen"] and e["threads"] == at["threads"], e
    assert d.stop() == 0

    # A restart takes the threads from the cache and measures nothing.
    d2 = daemon(name="second", sections=s)
    with connect(d2) as c:
        ms = wait_ready(c, ["mlp", "slow"])
        for name, at in (("mlp", mlp), ("slow", slow)):
            e = ms[name]
            assert e["autotune"]["from_cache"] is True, e
            assert e["autotune"]["chosen"] == at["chosen"], e
            assert e["autotune"]["threads"] == at["threads"], e
            assert e["threads_per_instance"] == at["chosen"], e
            assert e["tuning_source"]["threads_per_instance"] == "autotune", e
    log = d2.log_text()
    assert "autotune: model mlp: threads %d from cache" % mlp["chosen"] in log, log
    assert "autotune: model slow: threads %d from cache" % slow["chosen"] in log, log
    assert "measuring" not in log, log


def test_corrupt_cache_is_replaced(daemon, zoo):
    state = os.path.join(daemon.tmp, "state")
    os.makedirs(state)
    with open(os.path.join(state, "autotune.json"), "w") as f:
        f.write('{"version": 1, "entries": [{"path": "/x", "chosen": "many"')
    d = daemon(sections=sections(zoo, mlp={}))
    with connect(d) as c:
        at = check_figures(wait_tuned(c, "mlp"))
    log = d.log_text()
    assert "is corrupt" in log and "replacing it" in log, log
    _, cache = read_cache(d)
    (e,) = cache["entries"]
    assert e["path"] == os.path.realpath(zoo.path("mlp")) and e["chosen"] == at["chosen"]

    # Well-formed JSON of the wrong shape is corrupt too.
    assert d.stop() == 0
    with open(os.path.join(state, "autotune.json"), "w") as f:
        json.dump({"version": 1, "entries": [{"path": zoo.path("mlp")}]}, f)
    d2 = daemon(name="again", sections=sections(zoo, mlp={}))
    with connect(d2) as c:
        check_figures(wait_tuned(c, "mlp"))
    assert "is corrupt" in d2.log_text()
    _, cache = read_cache(d2)
    assert len(cache["entries"]) == 1 and "threads" in cache["entries"][0]


def test_configured_threads_are_not_tuned(daemon, zoo):
    d = daemon(sections=sections(zoo, mlp={"threads_per_instance": 1, "max_batch": 2},
                                 transformer={}))
    with connect(d) as c:
        # The other model is measured: had mlp been, it would be by then
        # (one measurement runs at a time).
        wait_tuned(c, "transformer")
        e = entries(c)["mlp"]
        assert "autotune" not in e, e
        assert e["threads_per_instance"] == 1
        assert e["tuning_source"] == {"threads_per_instance": "config", "max_batch": "config",
                                      "batch_delay_us": "default"}, e
        # model.load with threads given: the same.
        e = load(c, zoo, "cnn", threads_per_instance=2)
        assert e["tuning_source"]["threads_per_instance"] == "config"
        assert "autotune" not in e
    log = d.log_text()
    assert "autotune: model mlp" not in log, log
    assert "autotune: model cnn" not in log, log


def test_unloaded_while_measured(daemon, zoo):
    d = daemon(sections=sections(zoo))
    with connect(d) as c:
        load(c, zoo, "slow")
        d.wait_log("autotune: model slow: measuring")
        assert c.unload_model("slow", timeout=LOAD_TIMEOUT)["name"] == "slow"
        d.wait_log("autotune: model slow: unloaded meanwhile; the measurement is dropped")
        assert c.models() == []
        # The name loads again, and is measured again.
        load(c, zoo, "slow")
        check_figures(wait_tuned(c, "slow"))


def test_stopped_while_measured(daemon, zoo):
    """SIGTERM while a model is measured and another waits its turn: the
    daemon drops both and exits cleanly, writing no cache entry for them."""
    d = daemon(sections=sections(zoo, slow={}))
    d.wait_log("autotune: model slow: measuring", timeout=LOAD_TIMEOUT)
    with connect(d) as c:
        load(c, zoo, "cnn")  # ready: its measurement waits for slow's
    assert d.stop() == 0
    log = d.log_text()
    assert "autotune: model slow: stopped; the measurement is dropped" in log, log
    assert "autotune: model cnn: measuring" not in log, log
    path = os.path.join(d.state_dir, "autotune.json")
    assert not os.path.exists(path) or read_cache(d)[1]["entries"] == []


def test_autotune_off(daemon, zoo):
    s = sections(zoo, mlp={})
    s["policy"]["autotune"] = "false"
    d = daemon(sections=s)
    with connect(d) as c:
        e = wait_ready(c, ["mlp"])["mlp"]
        assert "autotune" not in e
        assert e["tuning_source"]["threads_per_instance"] == "default"
        assert e["threads_per_instance"] == WORKERS
    assert "autotune: model" not in d.log_text()
    assert not os.path.exists(os.path.join(d.state_dir, "autotune.json")) or \
        read_cache(d)[1]["entries"] == []


def test_device_profile(daemon, zoo):
    s = sections(zoo, mlp={}, transformer={"max_batch": 2, "batch_delay_us": 0})
    s["policy"]["autotune"] = "false"
    d = daemon(devices_dir=DEVICES, sections=s,
               extra_args=["--procfs-root", os.path.join(CPUINFO, "graviton3")])
    dev = "device:arm-neoverse-v1"
    with connect(d) as c:
        ms = wait_ready(c, ["mlp", "transformer"])
        e = ms["mlp"]
        assert e["tuning_source"] == {"threads_per_instance": dev, "max_batch": dev,
                                      "batch_delay_us": dev}, e
        # Eight threads in the profile, capped at the workers there are.
        assert e["threads_per_instance"] == WORKERS
        assert e["max_batch"] == 16 and e["batch_delay_us"] == 500 and e["batchable"] is True
        e = ms["transformer"]
        assert e["tuning_source"] == {"threads_per_instance": dev, "max_batch": "config",
                                      "batch_delay_us": "config"}, e
        assert e["max_batch"] == 2 and e["batch_delay_us"] == 0
        e = load(c, zoo, "cnn", max_batch=1)
        assert e["tuning_source"]["max_batch"] == "config"
        assert e["tuning_source"]["batch_delay_us"] == dev
        t = c.call("topology")["device"]
        assert t["devices_dir"] == DEVICES
        assert t["profile"]["name"] == "arm-neoverse-v1"
        assert t["profile"]["tuning"] == {"threads_per_instance": 8, "max_batch": 16,
                                          "batch_delay_us": 500}
        assert t["cpu"]["implementer"] == "0x41" and t["cpu"]["parts"] == ["0xd40"]
    assert "device profile arm-neoverse-v1" in d.log_text()


def test_device_profile_then_autotune(daemon, zoo):
    """With autotuning on, the profile's threads hold until the measurement
    replaces them; max_batch stays the profile's."""
    s = sections(zoo, mlp={})
    d = daemon(devices_dir=DEVICES, sections=s,
               extra_args=["--procfs-root", os.path.join(CPUINFO, "xeon-sapphire-rapids")])
    with connect(d) as c:
        e = check_figures(wait_tuned(c, "mlp"))
        e = entries(c)["mlp"]
        assert e["tuning_source"]["max_batch"] == "device:intel-sapphire-rapids"
        assert e["max_batch"] == 16


def test_no_profile_matches(daemon, zoo):
    s = sections(zoo, mlp={})
    s["policy"]["autotune"] = "false"
    d = daemon(devices_dir=DEVICES, sections=s,
               extra_args=["--procfs-root", os.path.join(CPUINFO, "rk3588-big-little")])
    with connect(d) as c:
        e = wait_ready(c, ["mlp"])["mlp"]
        assert set(e["tuning_source"].values()) == {"default"}, e
        assert c.call("topology")["device"]["profile"] is None
    assert "device profiles: none in %s matches" % DEVICES in d.log_text()
