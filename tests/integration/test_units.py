"""Checks of what ships beside the binaries: the systemd units, the launchd
plist, the bash completion, the man pages and the example configuration.

Environment: HWOPTD (path of the built daemon, default <repo>/bin/hwoptd) and
HWOPT_SRCDIR (repository root, default two directories above this file).
"""

import os
import plistlib
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

SRCDIR = Path(os.path.abspath(os.environ.get("HWOPT_SRCDIR") or Path(__file__).resolve().parents[2]))
HWOPTD = Path(os.path.abspath(os.environ.get("HWOPTD") or SRCDIR / "bin" / "hwoptd"))

SERVICE = SRCDIR / "systemd" / "hwoptd.service"
SOCKET = SRCDIR / "systemd" / "hwoptd.socket"
PLIST = SRCDIR / "systemd" / "org.hwoptd.hwoptd.plist"
COMPLETION = SRCDIR / "ctl" / "hwoptctl.bash-completion"
EXAMPLE_CONF = SRCDIR / "etc" / "hwoptd.conf"
MAN_DIR = SRCDIR / "docs" / "man"
MAN_PAGES = ["hwoptd.8.scd", "hwoptctl.1.scd", "hwoptd.conf.5.scd"]

# The [daemon] keys of hwoptd.conf(5) and their defaults as the example
# config shows them (empty: computed at start).
DAEMON_KEYS = {
    "socket": "",
    "socket_group": "",
    "admin_group": "",
    "state_dir": "",
    "devices_dir": "",
    "log_level": "info",
    "max_connections": "1024",
    "max_line_bytes": "1M",
    "max_queued_bytes": "16M",
    "shutdown_grace_ms": "5000",
    "submit_group": "",
    # [scheduler]
    "workers": "0",
    "spin_us": "50",
    "max_queue": "4096",
    "max_client_jobs": "1024",
    "batch_age_ms": "1000",
    "max_tensor_bytes": "1G",
    "max_models": "64",
    # [pools]
    "pool_quota": "1G",
    "pool_max_total": "8G",
    # [telemetry]
    "sysfs_root": "/sys",
    "procfs_root": "/proc",
    "interval_ms": "1000",
    "history": "600",
    "sources": "all",
    "perf_events": "",
    # [metrics]
    "listen": "127.0.0.1:9477",
}
# The policy sections' keys and defaults as the example config shows them,
# by section: the same key (enabled) is in several of them.
POLICY_KEYS = {
    "policy": {"enabled": "true", "dry_run": "false", "restore_on_exit": "true",
               "profile": "balanced", "explain_history": "256", "autotune": "true"},
    "dvfs": {"enabled": "true", "idle_s": "10", "busy_s": "3", "hold_s": "5",
             "power_saver_freq_ratio": "0.6", "idle_freq_ratio": "0.8",
             "memory_bound": "true", "memory_bound_ipc": "0.7",
             "memory_bound_miss_ratio": "0.3", "memory_bound_freq_ratio": "0.7",
             "memory_bound_enter_s": "3", "memory_bound_exit_s": "5"},
    "thermal": {"enabled": "true", "mode": "step", "margin_c": "5", "hysteresis_c": "3",
                "cooldown_s": "10", "max_level": "5", "level_freq_step": "0.1",
                "min_freq_ratio": "0.4", "max_trip_c": "150", "target_c": "",
                "pid_kp": "0.05", "pid_ki": "0.005", "pid_kd": "0"},
    "battery": {"enabled": "true", "low_pct": "20", "critical_pct": "5",
                "low_workers_ratio": "0.5"},
    "autoscale": {"enabled": "true", "min_workers": "1", "max_workers": "0",
                  "target_utilization": "0.8", "target_queue_per_worker": "2",
                  "target_queue_p95_s": "0.1", "tolerance_up": "0.1", "tolerance_down": "0.1",
                  "up_window_s": "0", "down_window_s": "300", "up_percent": "100",
                  "up_workers": "4", "up_period_s": "15", "down_workers": "1",
                  "down_percent": "0", "down_period_s": "60"},
    "affinity": {"enabled": "true", "interactive": "performance", "normal": "any",
                 "batch": "efficiency", "heavy_ms": "50", "efficiency_capacity_pct": "80"},
}
SECTIONS = ["[daemon]", "[scheduler]", "[pools]", "[telemetry]", "[metrics]"] + [
    f"[{s}]" for s in POLICY_KEYS]


def need(tool):
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed")
    return path


def need_daemon():
    if not os.access(HWOPTD, os.X_OK):
        pytest.skip(f"{HWOPTD} is not built (run make)")
    return HWOPTD


# --- (a) systemd units ---------------------------------------------------------


def build_man_pages(dest):
    """Renders the man pages into dest/manN/ so that `systemd-analyze verify`
    can resolve the units' Documentation=man:... entries. False without scdoc
    or man."""
    if not (shutil.which("scdoc") and shutil.which("man")):
        return False
    for src in MAN_DIR.glob("*.scd"):
        name = src.name[: -len(".scd")]
        section = name.rsplit(".", 1)[1]
        out = dest / f"man{section}" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(src, "rb") as fin, open(out, "wb") as fout:
            subprocess.run(["scdoc"], stdin=fin, stdout=fout, check=True)
    return True


def install_units(tmp_path, edit_service=None, edit_socket=None):
    """Copies both units into tmp_path/units as `make install` would write
    them (the names must stay hwoptd.service and hwoptd.socket: the socket
    names its service), with the config under tmp_path/etc."""
    sysconfdir = tmp_path / "etc"
    (sysconfdir / "hwoptd").mkdir(parents=True)
    shutil.copy(EXAMPLE_CONF, sysconfdir / "hwoptd" / "hwoptd.conf")

    service = SERVICE.read_text()
    service = service.replace("@SBINDIR@", str(HWOPTD.parent))
    service = service.replace("@SYSCONFDIR@", str(sysconfdir))
    leftover = re.findall(r"@[A-Z_]+@", service)
    assert not leftover, f"hwoptd.service has placeholders make install does not fill: {leftover}"
    socket = SOCKET.read_text()
    if edit_service:
        service = edit_service(service)
    if edit_socket:
        socket = edit_socket(socket)

    units = tmp_path / "units"
    units.mkdir()
    (units / "hwoptd.service").write_text(service)
    (units / "hwoptd.socket").write_text(socket)
    return units


def verify(tmp_path, units):
    """Runs `systemd-analyze verify` on both units. Returns the exit status,
    all output lines, and the lines about our units (everything else is about
    other units or the state of this machine, which is not ours to judge)."""
    analyze = need("systemd-analyze")
    env = dict(os.environ, LC_ALL="C", SYSTEMD_COLORS="0")
    args = [analyze, "verify", "--recursive-errors=no"]
    if build_man_pages(tmp_path / "man"):
        env["MANPATH"] = str(tmp_path / "man")
    else:
        args.append("--man=no")
    args += [str(units / "hwoptd.service"), str(units / "hwoptd.socket")]
    r = subprocess.run(args, cwd=units, env=env, capture_output=True, text=True, timeout=120)
    lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    ours = [
        l for l in lines if str(units) in l or re.search(r"(^|[\s/])hwoptd\.(service|socket)\b", l)
    ]
    return r.returncode, lines, ours


def test_units_verify(tmp_path):
    need("systemd-analyze")
    need_daemon()
    units = install_units(tmp_path)
    rc, lines, ours = verify(tmp_path, units)
    out = "\n".join(lines)
    assert not ours, f"systemd-analyze verify complains about the units:\n{out}"
    assert rc == 0, f"systemd-analyze verify failed (exit {rc}):\n{out}"


@pytest.mark.parametrize(
    "unit,edit,word",
    [
        ("service", lambda t: t.replace("Type=notify", "Type=bogus"), "bogus"),
        ("socket", lambda t: t.replace("SocketMode=0660", "SocketMode=rw-all"), "rw-all"),
    ],
)
def test_units_verify_catches_errors(tmp_path, unit, edit, word):
    """The check above would be worthless if a broken unit passed it."""
    need("systemd-analyze")
    need_daemon()
    if unit == "service":
        assert "Type=notify" in SERVICE.read_text()
        units = install_units(tmp_path, edit_service=edit)
    else:
        assert "SocketMode=0660" in SOCKET.read_text()
        units = install_units(tmp_path, edit_socket=edit)
    rc, lines, ours = verify(tmp_path, units)
    out = "\n".join(lines)
    assert rc != 0, f"a broken hwoptd.{unit} passed systemd-analyze verify:\n{out}"
    assert any(word in l for l in ours), f"no complaint naming '{word}':\n{out}"


def unit_settings(path):
    """{(section, key): [values]} of a unit file, comments skipped."""
    settings, section = {}, None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault((section, key.strip()), []).append(value.strip())
    return settings


def test_units_contract():
    svc = unit_settings(SERVICE)
    sock = unit_settings(SOCKET)
    assert svc[("Service", "Type")] == ["notify"]
    assert svc[("Service", "ExecStart")] == [
        "@SBINDIR@/hwoptd --config @SYSCONFDIR@/hwoptd/hwoptd.conf"
    ]
    assert svc[("Service", "ExecReload")] == ["/bin/kill -HUP $MAINPID"]
    assert svc[("Service", "RuntimeDirectory")] == ["hwoptd"]
    # The socket unit's socket lives in the runtime directory: removing the
    # directory when the service stops would break activation.
    assert svc.get(("Service", "RuntimeDirectoryPreserve")) == ["yes"]
    # The socket activates the service; the service must not need it.
    for section, key in [("Unit", "Requires"), ("Unit", "BindsTo"), ("Service", "Sockets")]:
        assert not any("hwoptd.socket" in v for v in svc.get((section, key), [])), key
    # Socket activation must hand over the same path the daemon and
    # hwoptctl use by default as root.
    assert sock[("Socket", "ListenStream")] == ["/run/hwoptd/hwoptd.sock"]
    assert sock[("Socket", "Service")] == ["hwoptd.service"]
    assert sock[("Install", "WantedBy")] == ["sockets.target"]


# --- (b) launchd plist -------------------------------------------------------------


def test_plist():
    with open(PLIST, "rb") as f:
        plist = plistlib.load(f)
    assert plist["Label"] == "org.hwoptd.hwoptd"
    args = plist["ProgramArguments"]
    assert args[0].endswith("/hwoptd")
    assert args[1:] == ["--config", "/usr/local/etc/hwoptd/hwoptd.conf"]
    assert plist["RunAtLoad"] is True
    assert "KeepAlive" in plist
    assert plist["StandardErrorPath"].startswith("/")


# --- (c) bash completion --------------------------------------------------------------


def bash(script, cwd=None):
    return subprocess.run(
        [need("bash"), "--norc", "--noprofile", "-c", script],
        cwd=cwd, capture_output=True, text=True, timeout=30,
    )


def complete(words, cwd=None):
    """Calls the completion function as bash would for the command line
    `words` (the last word is the one under the cursor); returns COMPREPLY."""
    script = f"""
source {shlex.quote(str(COMPLETION))} || exit 90
COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(' '.join(words))}
COMP_POINT=${{#COMP_LINE}}
COMPREPLY=()
_hwoptctl hwoptctl {shlex.quote(words[-1])} {shlex.quote(words[-2])}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    r = bash(script, cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr
    return sorted(l for l in r.stdout.splitlines() if l)


def test_completion_loads():
    r = bash(f"source {shlex.quote(str(COMPLETION))} && complete -p hwoptctl")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert "hwoptctl" in r.stdout


@pytest.mark.parametrize(
    "words,expected",
    [
        (["hwoptctl", "conf"], ["config"]),
        (["hwoptctl", ""], sorted(["status", "topology", "config", "shutdown", "version", "help",
                                   "models", "load", "unload", "infer", "jobs", "cancel",
                                   "pools", "metrics", "top", "telemetry", "record",
                                   "policy", "profile", "explain", "simulate"])),
        (["hwoptctl", "pro"], ["profile"]),
        (["hwoptctl", "profile", ""], ["hold", "holds", "set"]),
        (["hwoptctl", "profile", "hold", ""], ["performance", "power-saver"]),
        (["hwoptctl", "profile", "set", "b"], ["balanced"]),
        (["hwoptctl", "explain", "--policy", "a"], ["affinity", "autoscale"]),
        (["hwoptctl", "explain", "--"], ["--json", "--limit", "--policy"]),
        (["hwoptctl", "policy", ""], ["set"]),
        (["hwoptctl", "--j"], ["--json"]),
        (["hwoptctl", "config", ""], ["get", "reload"]),
        (["hwoptctl", "config", "r"], ["reload"]),
        (["hwoptctl", "config", "get", ""], []),
        (["hwoptctl", "help", "s"], ["shutdown", "simulate", "status"]),
        (["hwoptctl", "-s", "/tmp/x.sock", "-j", "-t", "5", "sta"], ["status"]),
        (["hwoptctl", "--socket", "=", "/tmp/x.sock", "config", "re"], ["reload"]),
        (["hwoptctl", "-t", ""], []),
    ],
)
def test_completion_words(words, expected):
    assert complete(words) == expected


def test_completion_socket_files(tmp_path):
    (tmp_path / "hwoptd.sock").touch()
    (tmp_path / "other").mkdir()
    assert complete(["hwoptctl", "--socket", "hw"], cwd=tmp_path) == ["hwoptd.sock"]
    assert complete(["hwoptctl", "-s", "hw"], cwd=tmp_path) == ["hwoptd.sock"]
    # --socket=PATH, split by bash at '=' (the default COMP_WORDBREAKS).
    assert complete(["hwoptctl", "--socket", "=", "hw"], cwd=tmp_path) == ["hwoptd.sock"]
    assert complete(["hwoptctl", "--socket", ""], cwd=tmp_path) == ["hwoptd.sock", "other"]


# --- (d) man pages -------------------------------------------------------------------


@pytest.mark.parametrize("page", MAN_PAGES)
def test_man_page_builds(page):
    scdoc = need("scdoc")
    src = MAN_DIR / page
    with open(src, "rb") as f:
        r = subprocess.run([scdoc], stdin=f, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stderr == b"", r.stderr.decode()
    roff = r.stdout.decode()
    assert ".TH" in roff
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "SEE ALSO"):
        assert re.search(rf'^\.SH "?{section}"?$', roff, re.M), f"{page}: no {section} section"


@pytest.mark.parametrize("page", MAN_PAGES)
def test_man_page_renders_cleanly(page):
    """groff finds what scdoc lets through (bad escapes, broken macros)."""
    scdoc = need("scdoc")
    groff = need("groff")
    with open(MAN_DIR / page, "rb") as f:
        roff = subprocess.run([scdoc], stdin=f, capture_output=True, check=True).stdout
    r = subprocess.run(
        [groff, "-man", "-Tutf8", "-ww", "-z"], input=roff, capture_output=True, timeout=30
    )
    assert r.returncode == 0 and r.stderr == b"", r.stderr.decode()


# --- (e) configuration keys ---------------------------------------------------------------


def test_example_config_lists_every_key_commented():
    text = EXAMPLE_CONF.read_text()
    active = [
        l for l in text.splitlines() if l.strip() and l.lstrip()[0] not in "#;"
    ]
    assert active == SECTIONS, f"only the section headers may be active: {active}"
    for key, default in DAEMON_KEYS.items():
        m = re.findall(rf"^[#;]\s*{key}\s*=(.*)$", text, re.M)
        assert m, f"etc/hwoptd.conf does not list {key}"
        assert len(m) == 1, f"etc/hwoptd.conf lists {key} twice"
        assert m[0].strip() == default, f"{key}: shows {m[0].strip()!r}, default is {default!r}"


def test_man_page_documents_every_key():
    text = (MAN_DIR / "hwoptd.conf.5.scd").read_text()
    for key in DAEMON_KEYS:
        assert re.search(rf"^\*{key}\* =", text, re.M), f"hwoptd.conf.5 does not document {key}"


def sections_of(text, heading):
    """{section: its text} of a file whose sections start with heading
    (a regex with one group, the section's name)."""
    parts = re.split(heading, text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_example_config_lists_every_policy_key_commented():
    body = sections_of(EXAMPLE_CONF.read_text(), r"^\[([a-z]+)\]$")
    for section, keys in POLICY_KEYS.items():
        assert section in body, f"etc/hwoptd.conf has no [{section}]"
        for key, default in keys.items():
            m = re.findall(rf"^[#;]\s*{key}\s*=(.*)$", body[section], re.M)
            assert len(m) == 1, f"etc/hwoptd.conf lists [{section}] {key} {len(m)} times"
            assert m[0].strip() == default, \
                f"[{section}] {key}: shows {m[0].strip()!r}, default is {default!r}"
    assert re.search(r"^[#;]\s*zone\.[a-z_]+\s*=", body["thermal"], re.M), \
        "etc/hwoptd.conf shows no zone.TYPE example"


def test_man_page_documents_every_policy_key():
    body = sections_of((MAN_DIR / "hwoptd.conf.5.scd").read_text(),
                       r"^# SECTION \[([a-z]+)\]$")
    for section, keys in POLICY_KEYS.items():
        assert section in body, f"hwoptd.conf.5 has no SECTION [{section}]"
        for key in list(keys) + ["zone."] * (section == "thermal"):
            assert re.search(rf"^\*{re.escape(key)}\*", body[section], re.M), \
                f"hwoptd.conf.5 does not document [{section}] {key}"


def test_example_config_passes_check_config(tmp_path):
    """Shipped as is, and with every key uncommented at its default, the
    example is a valid configuration."""
    daemon = need_daemon()
    uncommented = tmp_path / "uncommented.conf"
    uncommented.write_text(
        re.sub(r"^[#;](\s*[a-z_]+\s*=)", r"\1", EXAMPLE_CONF.read_text(), flags=re.M)
    )
    for path in (EXAMPLE_CONF, uncommented):
        r = subprocess.run(
            [str(daemon), "--check-config", str(path)],
            capture_output=True, text=True, timeout=30,
        )
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"{path}: ok" in r.stdout + r.stderr
