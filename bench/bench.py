"""gatehouse benchmark: what the gateway adds in front of an inference server. Run bench/run.

One run, loopback only, on whatever cores the machine has:

1. builds release binaries (gatehouse and the stand-in upstream) unless --no-build;
2. starts the stand-in (STANDIN_THREADS=1) and a release gatehouse on a fresh data dir with
   `--upstream standin=...`; signs alice in through Keycloak without a browser for a Plugin
   API Key (starts Keycloak with scripts/keycloak when it is not running, and stops it after);
3. optionally starts LiteLLM's proxy in front of the same stand-in (a venv in
   .cache/litellm-venv, installed once with `pip install 'litellm[proxy]'`);
4. for non-streaming and streaming chat completions, with the same load generator (wrk) for
   every path: saturation throughput; then, at half the direct path's saturation rate, latency
   p50/p99 per path and the latency each proxy adds (its percentile minus the direct one);
   gatehouse's CPU time per request (utime+stime from /proc/PID/stat) and peak memory (VmHWM);
5. prints a table and writes bench/results/latest.json and latest.md.

The targets are reported, never enforced.
"""

import argparse
import datetime
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import requests  # noqa: E402

from gateway.helpers import SignedInUser, StandinUpstream, free_port, tail  # noqa: E402
from support.gatehouse import TEST_CLIENT_SECRET  # noqa: E402

CACHE = ROOT / ".cache"
LOGS = CACHE / "logs"
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "post.lua"
LITELLM_VENV = CACHE / "litellm-venv"
LITELLM_FAILED = CACHE / "litellm-install-failed.txt"
KEYCLOAK_URL = os.environ.get("KEYCLOAK_URL", "http://127.0.0.1:18080").rstrip("/")
# Keycloak's test client only accepts redirect URIs under this address: the bench gatehouse
# says it is reachable there (its public URL) and the sign-in client maps it to the real port.
PUBLIC_URL = "http://127.0.0.1:18008"
MODEL = "standin-model"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Saturation concurrency: the stand-in's streamed answers take ~40 ms each (it leaves Nagle's
# algorithm on, see the notes), so streaming needs many connections to be CPU-bound.
SATURATION_CONNECTIONS = {"non_streaming": 32, "streaming": 256}
SATURATION_ROUNDS = 3
TARGETS = {"added_p50_ms": 0.2, "added_p99_ms": 1.0, "throughput_ratio": 0.8}
KINDS = {
    "non_streaming": {"model": MODEL, "max_tokens": 16,
                      "messages": [{"role": "user", "content": "Write a haiku about a gate."}]},
    "streaming": {"model": MODEL, "max_tokens": 16, "stream": True,
                  "messages": [{"role": "user", "content": "Write a haiku about a gate."}]},
}


def say(message: str):
    print(f"==> {message}", flush=True)


def note(message: str):
    print(f"    {message}", flush=True)


# --- processes ---


class Process:
    """A child process with its output in a log file."""

    def __init__(self, name, cmd, env=None, log=None, cwd=None):
        self.name = name
        self.log = log or LOGS / f"bench-{name}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.popen = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, cwd=cwd,
                                          start_new_session=True)
        self.pid = self.popen.pid

    def wait_http(self, url, timeout, ok=lambda r: r.status_code == 200):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n"
                                   f"{tail(self.log)}")
            try:
                if ok(requests.get(url, timeout=2)):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready within {timeout} s:\n{tail(self.log)}")

    def stop(self):
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, 15)  # its own session: the process and its children
            except ProcessLookupError:
                return
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, 9)
                self.popen.wait()


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [pid], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of proc(5)
        except (OSError, IndexError, ValueError):
            pass
    return total / CLK_TCK


def idle_share(seconds: float) -> float:
    """How idle the CPUs were (idle + iowait over all time) during the next `seconds`."""
    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return fields[3] + fields[4], sum(fields)
    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return (idle1 - idle0) / max(total1 - total0, 1)


def peak_memory_kib(pids: list[int]) -> int:
    """VmHWM (peak resident set) summed over the processes, in KiB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


# --- setup ---


def run_logged(cmd, log: Path, timeout=None, env=None, cwd=ROOT) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        try:
            return subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout,
                                  env=env, cwd=cwd).returncode
        except subprocess.TimeoutExpired:
            return -1


def ensure_wrk():
    if shutil.which("wrk"):
        return
    say("installing wrk (Debian package)")
    log = LOGS / "bench-apt.log"
    if run_logged(["apt-get", "install", "-y", "-q", "wrk"], log) != 0:
        run_logged(["apt-get", "update", "-q"], log)
        if run_logged(["apt-get", "install", "-y", "-q", "wrk"], log) != 0:
            sys.exit(f"could not install wrk; see {log}")


def keycloak_up() -> bool:
    try:
        url = f"{KEYCLOAK_URL}/realms/gatehouse/.well-known/openid-configuration"
        return requests.get(url, timeout=3).status_code == 200
    except requests.RequestException:
        return False


def litellm_setup(attempt: bool) -> tuple[Path | None, str]:
    """The litellm executable, or None and why not."""
    exe = LITELLM_VENV / "bin" / "litellm"
    if exe.is_file():
        return exe, ""
    if not attempt:
        return None, "skipped (--no-litellm)"
    if LITELLM_FAILED.is_file() and not os.environ.get("BENCH_LITELLM_RETRY"):
        return None, (f"an earlier `pip install 'litellm[proxy]'` failed "
                      f"({LITELLM_FAILED.read_text().strip()}); BENCH_LITELLM_RETRY=1 tries again")
    say("installing LiteLLM's proxy once into .cache/litellm-venv (up to 6 minutes)")
    log = LOGS / "bench-litellm-install.log"
    code = run_logged([sys.executable, "-m", "venv", "--clear", str(LITELLM_VENV)], log)
    if code == 0:
        code = run_logged([str(LITELLM_VENV / "bin" / "pip"), "install", "-q",
                           "--disable-pip-version-check", "--no-input", "litellm[proxy]"],
                          log, timeout=360)
    if code != 0 or not exe.is_file():
        reason = ("timed out after 6 minutes" if code == -1 else f"exit code {code}") + \
                 f"; log: {log}"
        LITELLM_FAILED.write_text(reason + "\n")
        shutil.rmtree(LITELLM_VENV, ignore_errors=True)
        return None, f"`pip install 'litellm[proxy]'` failed: {reason}"
    LITELLM_FAILED.unlink(missing_ok=True)
    return exe, ""


def litellm_version() -> str:
    try:
        out = subprocess.run([str(LITELLM_VENV / "bin" / "python"), "-c",
                              "import importlib.metadata as m; print(m.version('litellm'))"],
                             capture_output=True, text=True, timeout=30)
        return out.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"


# --- measuring ---


def wrk(url, body_file, key, seconds, connections, delay=None) -> dict:
    env = {**os.environ, "BENCH_BODY_FILE": str(body_file), "BENCH_KEY": key or ""}
    if delay:
        env["BENCH_DELAY_MIN_MS"], env["BENCH_DELAY_MAX_MS"] = str(delay[0]), str(delay[1])
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
           "-s", str(LUA), url]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures (exit {out.returncode}):\n{out.stdout}\n"
                           f"{out.stderr}")
    figures = json.loads(line[len("BENCH_JSON "):])
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["errors"] = sum(figures[k] for k in figures if k.startswith("errors_"))
    return figures


def check_path(url, body, key) -> str | None:
    """One request first: a path that does not answer 200 is not worth measuring."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        resp = requests.post(url, json=body, headers=headers, timeout=30)
    except requests.RequestException as err:
        return f"no answer: {err}"
    if resp.status_code != 200:
        return f"HTTP {resp.status_code}: {resp.text[:200]}"
    return None


def measure(path, url, body_file, key, seconds, connections, warmup, delay=None) -> dict:
    """A warm-up run, then the measured one; CPU time of the path's proxy over the latter."""
    if warmup:
        wrk(url, body_file, key, warmup, connections, delay)
    pids = tree(path["pid"]) if path.get("pid") else []
    cpu_before = cpu_seconds(pids)
    figures = wrk(url, body_file, key, seconds, connections, delay)
    if pids:
        cpu = cpu_seconds(pids) - cpu_before
        figures["cpu_seconds"] = round(cpu, 3)
        figures["cpu_us_per_request"] = (round(cpu * 1e6 / figures["requests"], 1)
                                         if figures["requests"] else None)
    return figures


def ms(us) -> float:
    return round(us / 1000, 3)


def saturation(paths, kind, body_file, args) -> dict:
    """Throughput with many connections: after a warm-up per path, SATURATION_ROUNDS rounds
    that take turns between the paths (so that a noisy moment on a shared machine does not
    hit one path only); each path's figures are those of its median round."""
    rounds = {name: [] for name in paths}
    seconds = max(1, args.seconds // 2)
    for name, path in paths.items():
        wrk(path["url"], body_file, path["key"], args.warmup, connections_for(kind, name))
    for round_number in range(1, SATURATION_ROUNDS + 1):
        for name, path in paths.items():
            connections = connections_for(kind, name)
            say(f"{kind}: saturation round {round_number}/{SATURATION_ROUNDS}, {name} "
                f"({connections} connections, {seconds} s)")
            figures = measure(path, path["url"], body_file, path["key"], seconds, connections, 0)
            figures["connections"] = connections
            rounds[name].append(figures)
            note(f"{figures['rps']:.0f} req/s")
    result = {}
    for name, runs in rounds.items():
        median = sorted(runs, key=lambda f: f["rps"])[len(runs) // 2]
        result[name] = {**median, "rounds_rps": [round(f["rps"]) for f in runs]}
    return result


def connections_for(kind, name) -> int:
    # LiteLLM serves tens of requests per second here: more connections than that only
    # queue up and time out, which would understate its throughput.
    connections = SATURATION_CONNECTIONS[kind]
    return min(connections, 32) if name == "litellm" else connections


def fixed_rate(target, paths, kind, body_file, args, idle) -> dict:
    """Every path at about `target` req/s: each connection waits a random 0.5 to 1.5 times
    --pace-ms after each answer; the connection count makes that `target` for the direct path
    (its unloaded latency included). The latency each proxy adds is its percentile minus the
    direct path's."""
    pace = (max(1, args.pace_ms // 2), args.pace_ms * 3 // 2)
    cycle_ms = args.pace_ms + idle["lat_mean_us"] / 1000
    connections = max(1, round(target * cycle_ms / 1000))
    result = {"target_rps": round(target, 1), "connections": connections,
              "pace_ms": list(pace), "added": {}}
    for name, path in paths.items():
        say(f"{kind}: fixed rate ~{target:.0f} req/s, {name} ({connections} connections, "
            f"{args.seconds} s)")
        f = result[name] = measure(path, path["url"], body_file, path["key"], args.seconds,
                                   connections, args.warmup, pace)
        note(f"{f['rps']:.0f} req/s, p50 {ms(f['lat_p50_us'])} ms, p99 {ms(f['lat_p99_us'])} ms")
    direct = result["direct"]
    for name in paths:
        if name != "direct":
            f = result[name]
            result["added"][name] = {
                "p50_ms": ms(f["lat_p50_us"] - direct["lat_p50_us"]),
                "p99_ms": ms(f["lat_p99_us"] - direct["lat_p99_us"]),
                "sustained_target_rate": f["rps"] >= 0.8 * direct["rps"],
            }
    return result


# --- report ---


def fmt(value, digits=3):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(results) -> list[list[str]]:
    paths = [p for p in ("direct", "gatehouse", "litellm") if p in results["paths"]
             and not results["paths"][p].get("skipped")]
    rows = [["", *[f"{k.replace('_', '-')}: {p}" for k in KINDS for p in paths]]]

    def row(label, getter):
        cells = []
        for kind in KINDS:
            for path in paths:
                try:
                    cells.append(fmt(getter(results["kinds"][kind], path)))
                except (KeyError, TypeError, ZeroDivisionError):
                    cells.append("-")
        rows.append([label, *cells])

    def fixed_rows(section, title):
        row(title, lambda k, p: round(k[section]["target_rps"]))
        row("  achieved req/s", lambda k, p: round(k[section][p]["rps"]))
        row("  latency p50 ms", lambda k, p: ms(k[section][p]["lat_p50_us"]))
        row("  latency p99 ms", lambda k, p: ms(k[section][p]["lat_p99_us"]))
        row("  added p50 ms",
            lambda k, p: None if p == "direct" else k[section]["added"][p]["p50_ms"])
        row("  added p99 ms",
            lambda k, p: None if p == "direct" else k[section]["added"][p]["p99_ms"])
        row("  errors", lambda k, p: k[section][p]["errors"])
        row("  CPU us/request", lambda k, p: k[section][p].get("cpu_us_per_request"))

    row("saturation req/s", lambda k, p: round(k["saturation"][p]["rps"]))
    row("  ratio to direct", lambda k, p: round(k["saturation"][p]["rps"]
                                                / k["saturation"]["direct"]["rps"], 3))
    row("  latency p50 ms", lambda k, p: ms(k["saturation"][p]["lat_p50_us"]))
    row("  errors", lambda k, p: k["saturation"][p]["errors"])
    row("  CPU us/request", lambda k, p: k["saturation"][p].get("cpu_us_per_request"))
    fixed_rows("fixed_rate", "at 1/2 direct saturation: req/s")
    fixed_rows("fixed_rate_half_gatehouse", "at 1/2 gatehouse saturation: req/s")
    return rows


def render_text(rows) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))) for r in rows)


def render_markdown(rows) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(rows[0]) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def verdicts(results) -> list[dict]:
    found = []
    for kind in KINDS:
        k = results["kinds"][kind]
        added = k.get("fixed_rate", {}).get("added", {}).get("gatehouse")
        if added:
            found.append({"kind": kind, "what": "added latency p50 at 1/2 direct saturation (ms)",
                          "value": added["p50_ms"], "target": f"<= {TARGETS['added_p50_ms']}",
                          "met": added["p50_ms"] <= TARGETS["added_p50_ms"]})
            found.append({"kind": kind, "what": "added latency p99 at 1/2 direct saturation (ms)",
                          "value": added["p99_ms"], "target": f"<= {TARGETS['added_p99_ms']}",
                          "met": added["p99_ms"] <= TARGETS["added_p99_ms"]})
        sat = k.get("saturation", {})
        if "gatehouse" in sat and "direct" in sat:
            ratio = round(sat["gatehouse"]["rps"] / sat["direct"]["rps"], 3)
            found.append({"kind": kind, "what": "saturation throughput, gatehouse / direct",
                          "value": ratio, "target": f">= {TARGETS['throughput_ratio']}",
                          "met": ratio >= TARGETS["throughput_ratio"]})
    return found


# --- the run ---


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-build", action="store_true", help="use the existing binaries")
    parser.add_argument("--no-litellm", action="store_true", help="leave LiteLLM out")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", 6)),
                        help="length of each fixed-rate run; saturation rounds take half "
                             "(default 6)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="warm-up seconds before each path's runs (default 1)")
    parser.add_argument("--pace-ms", type=int, default=10,
                        help="mean wait between requests per connection at the fixed rate")
    args = parser.parse_args()

    run_started = time.monotonic()
    idle_at_start = idle_share(1.0)
    if idle_at_start < 0.9:
        note(f"warning: the CPUs were only {idle_at_start:.0%} idle before the run; other work "
             "on this machine makes the figures noisy")
    LOGS.mkdir(parents=True, exist_ok=True)
    started_keycloak = False
    processes = []
    workdir = Path(tempfile.mkdtemp(prefix="gatehouse-bench-"))
    try:
        if not args.no_build:
            say("cargo build --release --bins --examples (log: .cache/logs/bench-build.log)")
            if run_logged(["cargo", "build", "--release", "--bins", "--examples"],
                          LOGS / "bench-build.log") != 0:
                sys.exit(f"release build failed:\n{tail(LOGS / 'bench-build.log')}")
        gatehouse_bin = ROOT / "target" / "release" / "gatehouse"
        standin_bin = ROOT / "target" / "release" / "examples" / "standin_upstream"
        ensure_wrk()

        if not keycloak_up():
            say("Keycloak is not running: scripts/keycloak start (stopped again at the end)")
            started_keycloak = True
            if run_logged([str(ROOT / "scripts" / "keycloak"), "start"],
                          LOGS / "bench-keycloak.log") != 0 or not keycloak_up():
                sys.exit(f"could not start Keycloak:\n{tail(LOGS / 'bench-keycloak.log')}")

        say("starting the stand-in upstream (1 thread) and gatehouse (release)")
        standin = StandinUpstream(standin_bin, [MODEL], LOGS / "bench-standin.log", threads=1)
        standin.start()
        processes.append(standin)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        admin_token = secrets.token_urlsafe(30)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
        env["GATEHOUSE_ADMIN_TOKEN"] = admin_token
        gatehouse = Process("gatehouse", [
            str(gatehouse_bin), "serve", "--listen", f"127.0.0.1:{port}",
            "--public-url", PUBLIC_URL, "--data-dir", str(workdir / "data"),
            "--upstream", f"standin={standin.url}"], env=env)
        processes.append(gatehouse)
        gatehouse.wait_http(f"{base}/healthz", 30)

        resp = requests.put(f"{base}/admin/api/settings/keycloak", timeout=30,
                            headers={"Authorization": f"Bearer {admin_token}"},
                            json={"enabled": True, "url": f"{KEYCLOAK_URL}/",
                                  "realm": "gatehouse", "client_id": "refact_client",
                                  "client_secret": TEST_CLIENT_SECRET})
        if resp.status_code != 200:
            sys.exit(f"configuring Keycloak on gatehouse failed: {resp.status_code} {resp.text}")
        say("signing alice in without a browser for a Plugin API Key")
        key = SignedInUser(base, "alice", "alice-pass-123", public_url=PUBLIC_URL) \
            .sign_in().key
        if not key:
            sys.exit("no Plugin API Key on /me after signing in")
        if started_keycloak:
            run_logged([str(ROOT / "scripts" / "keycloak"), "stop"], LOGS / "bench-keycloak.log")
            started_keycloak = False  # the key check needs no Keycloak

        paths = {
            # CPU of the direct path: the stand-in itself, for comparison.
            "direct": {"url": f"{standin.url}/chat/completions", "key": None,
                       "pid": standin.process.pid},
            "gatehouse": {"url": f"{base}/v1/chat/completions", "key": key,
                          "pid": gatehouse.pid},
        }
        litellm_exe, why_not = litellm_setup(not args.no_litellm)
        litellm = None
        if litellm_exe:
            say("starting LiteLLM's proxy (1 worker) in front of the same stand-in")
            lport = free_port()
            config = workdir / "litellm.yaml"
            config.write_text(
                "model_list:\n"
                f"  - model_name: {MODEL}\n"
                "    litellm_params:\n"
                f"      model: openai/{MODEL}\n"
                f"      api_base: {standin.url}\n"
                "      api_key: not-needed\n"
                "litellm_settings:\n"
                "  telemetry: false\n")
            # Like gatehouse, LiteLLM checks a key on every request (its master key).
            master_key = "sk-" + secrets.token_hex(24)
            lenv = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                    "LITELLM_LOG": "ERROR", "NO_DOCS": "True",
                    "LITELLM_MASTER_KEY": master_key}
            litellm = Process("litellm", [str(litellm_exe), "--config", str(config),
                                          "--host", "127.0.0.1", "--port", str(lport),
                                          "--num_workers", "1"], env=lenv, cwd=workdir)
            processes.append(litellm)
            try:
                litellm.wait_http(f"http://127.0.0.1:{lport}/health/liveliness", 120)
                paths["litellm"] = {"url": f"http://127.0.0.1:{lport}/v1/chat/completions",
                                    "key": master_key, "pid": litellm.pid}
            except RuntimeError as err:
                why_not = f"LiteLLM's proxy did not start: {str(err)[-600:]}"
                litellm.stop()
        if why_not:
            note(f"LiteLLM: {why_not}")

        results = {"paths": {}, "kinds": {}}
        for name, path in paths.items():
            results["paths"][name] = {"url": path["url"]}
        if "litellm" not in paths:
            results["paths"]["litellm"] = {"skipped": why_not}

        for kind, body in KINDS.items():
            body_file = workdir / f"{kind}.json"
            body_file.write_text(json.dumps(body))
            for name, path in list(paths.items()):
                problem = check_path(path["url"], body, path["key"])
                if problem:
                    sys.exit(f"{name} path does not work for {kind} requests: {problem}")
            k = results["kinds"][kind] = {"saturation": {}}
            direct = paths["direct"]

            # Unloaded latency of the direct path (one connection), to size the paced runs.
            idle = wrk(direct["url"], body_file, None, 1, 1)
            k["unloaded_direct_p50_ms"] = ms(idle["lat_p50_us"])

            k["saturation"] = saturation(paths, kind, body_file, args)

            # The targets' rate: half the direct path's saturation, every path. Then, for an
            # idea of gatehouse below its own limit: half of gatehouse's saturation.
            k["fixed_rate"] = fixed_rate(k["saturation"]["direct"]["rps"] / 2, paths, kind,
                                         body_file, args, idle)
            if "gatehouse" in paths:
                below = {n: paths[n] for n in ("direct", "gatehouse")}
                k["fixed_rate_half_gatehouse"] = fixed_rate(
                    k["saturation"]["gatehouse"]["rps"] / 2, below, kind, body_file, args, idle)

        results["memory_peak_kib"] = {"gatehouse": peak_memory_kib([gatehouse.pid])}
        if "litellm" in paths:
            results["memory_peak_kib"]["litellm"] = peak_memory_kib(tree(litellm.pid))
        results["memory_peak_kib"]["standin"] = peak_memory_kib([standin.process.pid])
        results["targets"] = verdicts(results)
        results["meta"] = {
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "run_seconds": round(time.monotonic() - run_started, 1),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                     capture_output=True, text=True).stdout.strip(),
            "worktree_dirty": bool(subprocess.run(["git", "status", "--porcelain", "src"],
                                                  cwd=ROOT, capture_output=True,
                                                  text=True).stdout.strip()),
            "cpus": os.cpu_count(),
            "cpu_idle_share_before_run": round(idle_at_start, 3),
            "cpu_model": next((l.split(":", 1)[1].strip() for l in
                               Path("/proc/cpuinfo").read_text().splitlines()
                               if l.startswith("model name")), "?"),
            "kernel": platform.release(),
            "load_generator": "wrk -t1 (" + subprocess.run(
                ["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
                + "), bench/post.lua",
            "saturation_connections": SATURATION_CONNECTIONS,
            "seconds_per_run": args.seconds,
            "warmup_seconds": args.warmup,
            "standin_threads": 1,
            "litellm_version": litellm_version() if "litellm" in paths else None,
            "notes": [
                "All processes (wrk, stand-in, gatehouse, LiteLLM) share the machine's cores.",
                "Fixed rate: wrk has no open-loop mode; each connection waits a random "
                f"{args.pace_ms // 2}-{args.pace_ms * 3 // 2} ms after each answer, with the "
                "connection count chosen for the target rate. The achieved rate of each path "
                "is shown; a path that cannot keep up is measured overloaded.",
                f"Saturation: {SATURATION_ROUNDS} rounds taking turns between the paths, each "
                "path's median round shown (all rounds in latest.json); connections: "
                f"{SATURATION_CONNECTIONS}, LiteLLM at most 32.",
                "Added latency: the proxy path's percentile minus the direct path's, both "
                "measured by the same generator at the same pacing.",
                "CPU per request: utime+stime of the proxy process (tree for LiteLLM; for the "
                "direct path, the stand-in itself) over the measured run, divided by its "
                f"requests; /proc ticks are 1/{CLK_TCK} s.",
                "The stand-in does not set TCP_NODELAY: its streamed answers (several small "
                "writes) wait for the reader's delayed ACK, ~40 ms, whether the reader is wrk "
                "(direct path) or gatehouse. Streaming latencies here are dominated by that, "
                "and streaming saturation needs many connections.",
            ],
        }
        report(results)
    finally:
        for process in reversed(processes):
            process.stop()
        if started_keycloak:
            run_logged([str(ROOT / "scripts" / "keycloak"), "stop"], LOGS / "bench-keycloak.log")
        shutil.rmtree(workdir, ignore_errors=True)


def report(results):
    rows = table(results)
    text = render_text(rows)
    memory = results["memory_peak_kib"]
    mem_line = "peak memory (VmHWM): " + ", ".join(
        f"{name} {kib / 1024:.1f} MiB" for name, kib in memory.items())
    target_lines = [
        f"{'met   ' if t['met'] else 'MISSED'} {t['kind']}: {t['what']} = {t['value']} "
        f"(target {t['target']})" for t in results["targets"]]
    skipped = results["paths"].get("litellm", {}).get("skipped")
    print()
    print(text)
    print(mem_line)
    if skipped:
        print(f"LiteLLM not measured: {skipped}")
    overloaded = []
    for kind, k in results["kinds"].items():
        for section in ("fixed_rate", "fixed_rate_half_gatehouse"):
            for name, added in k.get(section, {}).get("added", {}).items():
                if not added["sustained_target_rate"]:
                    overloaded.append(
                        f"{name} did not keep up with {k[section]['target_rps']:.0f} req/s of "
                        f"{kind.replace('_', '-')} requests ({k[section][name]['rps']:.0f} "
                        "req/s): its latency there is that of an overloaded server")
    for line in overloaded:
        print(f"note: {line}")
    print("targets (reported, not enforced):")
    for line in target_lines:
        print(f"  {line}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    meta = results["meta"]
    md = [f"# gatehouse benchmark ({meta['finished']}, commit {meta['commit']}"
          f"{' + local changes' if meta['worktree_dirty'] else ''})", "",
          f"{meta['cpus']} CPUs ({meta['cpu_model']}), kernel {meta['kernel']}; "
          f"{meta['load_generator']}; {meta['seconds_per_run']} s per run after "
          f"{meta['warmup_seconds']} s warm-up; whole run {meta['run_seconds']} s; CPUs "
          f"{meta['cpu_idle_share_before_run']:.0%} idle in the second before the run.", "",
          render_markdown(rows), "", mem_line, ""]
    if skipped:
        md += [f"LiteLLM not measured: {skipped}", ""]
    md += [f"Note: {line}" for line in overloaded] + ([""] if overloaded else [])
    md += ["Targets (reported, not enforced):", ""] + [f"- {line}" for line in target_lines]
    md += ["", "Notes:", ""] + [f"- {n}" for n in meta["notes"]]
    (RESULTS / "latest.md").write_text("\n".join(md) + "\n")
    print(f"written: {RESULTS / 'latest.json'}, {RESULTS / 'latest.md'}")


if __name__ == "__main__":
    main()
