#!/usr/bin/python3
"""The deployment files agree with each other and with chorus (no Docker, Slurm or i-PI needed):

  1. every i-PI input in deploy/ipi parses, has no "--" inside a comment (i-PI rejects it), reads
     start files that exist, and keeps <ffcommittee> at alpha 1 with parse_json; the water start
     file is the first frame of the training data (cell in i-PI's CELL(abcABC) comment) in the
     O,H,H order the compose files and the Slurm recipe tell chorus;
  2. the compose files run those inputs, and their engines connect where the inputs listen (UNIX
     socket name on a volume both services mount at /tmp, or TCP to the `ipi` service's port);
  3. the Dockerfile builds with deploy/install-deps.sh and the release preset (as check-fresh.sh),
     runs as a non-root user, ships the model its CHORUS_MODEL names, and every CHORUS_* variable
     any deployment file sets is one `chorus serve` reads (server/src/cli.cpp);
  4. the Slurm recipe passes `bash -n` (and shellcheck, when installed) and really works: with
     srun and scontrol faked by scripts and i-PI by tests/e2e/ipi_test_server.py, two engines find
     i-PI's address in the handover file, connect over TCP although i-PI starts after them, and
     answer every force request.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import xml.etree.ElementTree as ElementTree

import yaml

from e2e_common import check, parse_arguments, run_test

args = parse_arguments(__doc__)
REPO = os.path.abspath(args.repo_root)
IPI_DIR = os.path.join(REPO, "deploy", "ipi")
COMPOSE_DIR = os.path.join(REPO, "deploy", "compose")
SLURM_RECIPE = os.path.join(REPO, "deploy", "slurm", "chorus-ipi.sbatch")


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def ipi_inputs():
    return sorted(name for name in os.listdir(IPI_DIR) if name.endswith(".xml"))


def sockets_of(xml_name):
    """(mode, address, port) of every <ffsocket> of an i-PI input."""
    root = ElementTree.parse(os.path.join(IPI_DIR, xml_name)).getroot()
    found = []
    for ffsocket in root.iter("ffsocket"):
        port = ffsocket.findtext("port")
        found.append((ffsocket.get("mode"), ffsocket.findtext("address").strip(),
                      int(port) if port is not None else None))
    return found


def serve_environment_names():
    return set(re.findall(r'envname\("(CHORUS_[A-Z_]+)"\)', read(os.path.join(REPO, "server", "src", "cli.cpp"))))


def check_ipi_inputs():
    inputs = ipi_inputs()
    check({"water-single.xml", "water-pimd-committee.xml", "water-remd-committee.xml"} <= set(inputs),
          "deploy/ipi has the water inputs", got=inputs)
    for name in inputs:
        text = read(os.path.join(IPI_DIR, name))
        for comment in re.findall(r"<!--(.*?)-->", text, flags=re.S):
            check("--" not in comment, f"{name}: no '--' inside an XML comment (i-PI's parser rejects it)")
        root = ElementTree.fromstring(text)
        check(root.tag == "simulation", f"{name}: root element", "simulation", root.tag)
        check(sockets_of(name), f"{name}: has an <ffsocket> for chorus")
        for file_element in root.iter("file"):
            start = file_element.text.strip()
            check(os.path.isfile(os.path.join(IPI_DIR, start)), f"{name}: start file {start} exists in deploy/ipi")
        for committee in root.iter("ffcommittee"):
            check(float(committee.findtext("alpha")) == 1.0, f"{name}: ffcommittee alpha is 1 (chorus calibrates)")
            check(committee.findtext("parse_json").strip() == "True", f"{name}: ffcommittee parses chorus's JSON")
    remd = ElementTree.parse(os.path.join(IPI_DIR, "water-remd-committee.xml")).getroot()
    check(remd.find("smotion").get("mode") == "remd", "water-remd-committee.xml: <smotion mode='remd'>")
    temperatures = [line.strip(" []").split(",")[1].strip() for line in
                    (instance.text for instance in remd.iter("instance"))]
    check(len(set(temperatures)) >= 4, "replica exchange over at least 4 temperatures", got=temperatures)
    pimd = ElementTree.parse(os.path.join(IPI_DIR, "water-pimd-committee.xml")).getroot()
    check(int(pimd.find("system/initialize").get("nbeads")) >= 8, "water PIMD has 8 or more beads")


def check_water_start_file():
    """water-192.xyz is the first training frame, O H H per molecule, with the training cell."""
    start = read(os.path.join(IPI_DIR, "water-192.xyz")).splitlines()
    training = read(os.path.join(REPO, "models", "pretrained", "data", "liquid-water-qtip4pf.xyz")).splitlines()
    count = int(training[0])
    check(int(start[0]) == count, "water start file: atom count", count, start[0])
    lattice = [float(value) for value in re.search(r'Lattice="([^"]+)"', training[1]).group(1).split()]
    cell = re.search(r"CELL\(abcABC\):((?:\s+[-+0-9.eE]+){6})", start[1])
    check(cell is not None, "water start file: i-PI's CELL(abcABC) comment", got=start[1])
    a, b, c, alpha, beta, gamma = (float(value) for value in cell.group(1).split())
    check(abs(a - lattice[0]) < 1e-6 and abs(b - lattice[4]) < 1e-6 and abs(c - lattice[8]) < 1e-6
          and alpha == beta == gamma == 90.0, "water start file: the training cell", lattice, cell.group(1))
    for index in range(count):
        got = start[2 + index].split()
        expected = training[2 + index].split()
        check(got[0] == expected[0] and got[0] == "OHH"[index % 3],
              f"water start file: species of atom {index} (O,H,H order)", expected[0], got[0])
        check(max(abs(float(got[k]) - float(expected[k])) for k in (1, 2, 3)) < 1e-6,
              f"water start file: position of atom {index}", expected[1:4], got[1:4])


def compose_files():
    return sorted(name for name in os.listdir(COMPOSE_DIR) if name.endswith(".compose.yaml"))


def check_compose():
    names = compose_files()
    check(len(names) >= 2, "deploy/compose has the PIMD and replica-exchange compose files", got=names)
    known = serve_environment_names()
    for name in names:
        compose = yaml.safe_load(read(os.path.join(COMPOSE_DIR, name)))
        services = compose["services"]
        check({"ipi", "chorus"} <= set(services), f"{name}: services ipi and chorus", got=list(services))
        for service_name, service in services.items():
            build = service.get("build")
            if build:
                dockerfile = os.path.join(COMPOSE_DIR, build["context"], build.get("dockerfile", "Dockerfile"))
                check(os.path.isfile(dockerfile), f"{name}: {service_name}'s Dockerfile exists", got=dockerfile)
            for variable in service.get("environment", {}):
                if variable.startswith("CHORUS_"):
                    check(variable in known, f"{name}: {variable} is read by chorus serve", sorted(known))
        ipi = services["ipi"]
        command = " ".join(ipi["command"]) if isinstance(ipi["command"], list) else ipi["command"]
        inputs = [xml for xml in ipi_inputs() if re.search(rf"\bi-pi {re.escape(xml)}", command)]
        check(len(inputs) == 1, f"{name}: i-PI runs one input of deploy/ipi", got=command)
        for mount in ipi["volumes"]:
            if mount.endswith(":/inputs:ro"):
                check(os.path.realpath(os.path.join(COMPOSE_DIR, mount.split(":")[0])) == IPI_DIR,
                      f"{name}: /inputs is deploy/ipi", got=mount)
        for copied in re.findall(r"/inputs/(\S+)", command):
            check(os.path.isfile(os.path.join(IPI_DIR, copied)), f"{name}: copies {copied}, which exists")

        chorus = services["chorus"]
        connect = chorus["environment"]["CHORUS_CONNECT"]
        mode, address, port = sockets_of(inputs[0])[0]
        if connect.startswith("unix:"):
            check(mode == "unix" and address == connect[len("unix:"):],
                  f"{name}: chorus connects to the input's UNIX socket", f"unix:{address}", connect)
            for service in (ipi, chorus):
                volumes = [mount for mount in service["volumes"] if mount.endswith(":/tmp")]
                check(len(volumes) == 1 and volumes[0].split(":")[0] in compose.get("volumes", {}),
                      f"{name}: both services mount the shared socket volume at /tmp (i-PI's /tmp/ipi_ prefix)",
                      got=service["volumes"])
            check(ipi.get("user") == chorus.get("user"), f"{name}: i-PI and chorus run as one user (socket access)")
        else:
            host, _, connect_port = connect[len("tcp:"):].rpartition(":")
            check(mode == "inet" and address == "0.0.0.0", f"{name}: i-PI listens on every interface",
                  "inet 0.0.0.0", f"{mode} {address}")
            check(host in services and int(connect_port) == port,
                  f"{name}: chorus connects to the ipi service's port", f"ipi:{port}", connect)
            check(str(port) in [str(exposed) for exposed in ipi.get("expose", [])], f"{name}: ipi exposes {port}")
        replicas = str(chorus["deploy"]["replicas"])
        check("CHORUS_ENGINES" in replicas or int(replicas) > 1, f"{name}: several engines", got=replicas)

    ipi_dockerfile = read(os.path.join(COMPOSE_DIR, "ipi.Dockerfile"))
    check("ipi==3.3.0" in ipi_dockerfile, "ipi.Dockerfile pins i-PI 3.3.0")
    check("--uid 10001" in ipi_dockerfile and "--uid 10001" in read(os.path.join(REPO, "Dockerfile")),
          "the i-PI and chorus images share uid 10001")


def dockerfile_stages():
    stages = []
    for line in read(os.path.join(REPO, "Dockerfile")).splitlines():
        if line.lstrip().startswith("#"):
            continue  # comments may mention what the instructions must not do
        if line.startswith("FROM "):
            stages.append([line])
        elif stages:
            stages[-1].append(line)
    return ["\n".join(stage) for stage in stages]


def check_dockerfile():
    build, runtime = dockerfile_stages()
    for stage in (build, runtime):
        check(re.match(r"FROM debian:(12|bookworm)", stage), "Dockerfile stages are Debian 12", got=stage.split("\n")[0])
    check("deploy/install-deps.sh build" in build, "the build stage installs deploy/install-deps.sh's build set")
    check("cmake --preset release" in build and "cmake --build --preset release" in build,
          "the build stage uses the release preset")
    check("march" not in build and "native" not in build, "the build stage is portable (no -march=native)")
    check("install-deps.sh runtime" in runtime, "the runtime stage installs the runtime set")
    check(re.search(r"^USER (?!root)\S+", runtime, flags=re.M), "the runtime stage runs as a non-root user")
    check('ENTRYPOINT ["chorus"]' in runtime and 'CMD ["serve"]' in runtime, "entry point chorus, command serve")
    copy = re.search(r"^COPY models/pretrained (\S+)", runtime, flags=re.M)
    check(copy, "the runtime stage ships models/pretrained")
    model = re.search(r"CHORUS_MODEL=(\S+)", runtime).group(1)
    check(model.startswith(copy.group(1).rstrip("/") + "/"), "CHORUS_MODEL is in the shipped models", got=model)
    shipped = os.path.join(REPO, "models", "pretrained", os.path.relpath(model, copy.group(1)))
    check(os.path.isfile(shipped), "the image's default model exists", got=shipped)
    known = serve_environment_names()
    for variable in re.findall(r"\b(CHORUS_[A-Z_]+)=", runtime):
        check(variable in known, f"Dockerfile: {variable} is read by chorus serve", sorted(known))
    for required in ("CHORUS_MODEL", "CHORUS_CONNECT", "CHORUS_CLIENTS"):
        check(required in known, f"chorus serve reads {required}")
    species = re.search(r"CHORUS_SPECIES=(\S+)", runtime).group(1)
    check(species == "O,H,H" and "water" in model, "the image's default species fit its water model")

    ignored = read(os.path.join(REPO, ".dockerignore")).split()
    check("build" in ignored and ".git" in ignored, ".dockerignore keeps build trees and .git out")
    fresh = read(os.path.join(REPO, "deploy", "check-fresh.sh"))
    for step in ("bash deploy/install-deps.sh build", "cmake --preset release",
                 "cmake --build --preset release", "--target chorus", "bash deploy/demo.sh"):
        check(step in fresh, f"check-fresh.sh runs the build stage's step '{step}'")


def check_scripts():
    scripts = [os.path.join(REPO, "deploy", "check-fresh.sh"), os.path.join(IPI_DIR, "check-inputs.sh"),
               SLURM_RECIPE]
    for script in scripts:
        result = subprocess.run(["bash", "-n", script], capture_output=True, text=True)
        check(result.returncode == 0, f"bash -n {os.path.basename(script)}", got=result.stderr)
    if shutil.which("shellcheck"):
        result = subprocess.run(["shellcheck", *scripts], capture_output=True, text=True)
        check(result.returncode == 0, "shellcheck of the deploy scripts", got=result.stdout)
    recipe = read(SLURM_RECIPE)
    default_input = re.search(r"INPUT:-[^}]*deploy/ipi/([\w.-]+\.xml)", recipe).group(1)
    check(any(mode == "inet" for mode, _, _ in sockets_of(default_input)),
          f"the Slurm recipe's default input {default_input} listens on TCP")
    check("--retry-for" in recipe, "the Slurm engines retry their connection")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_executable(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o755)


def check_slurm_run():
    """The recipe end to end, Slurm faked: 3 nodes, i-PI (a stand-in) on the first, 2 engines."""
    work = tempfile.mkdtemp(prefix="chorus_slurm_")
    try:
        bin_dir = os.path.join(work, "bin")
        os.mkdir(bin_dir)
        write_executable(os.path.join(bin_dir, "srun"), """#!/usr/bin/env bash
# srun stand-in: drops the options and runs the step here, in its --chdir folder.
dir=.
while [ $# -gt 0 ]; do case "$1" in --chdir=*) dir=${1#--chdir=}; shift ;; -*) shift ;; *) break ;; esac; done
cd "$dir" && exec "$@"
""")
        write_executable(os.path.join(bin_dir, "scontrol"), """#!/usr/bin/env bash
[ "$1 $2" = "show hostnames" ] && tr ',' '\\n' <<<"$3"
""")
        server = os.path.join(REPO, "tests", "e2e", "ipi_test_server.py")
        # i-PI stand-in: listens on the port the recipe wrote into the input, after the engines
        # started (they must wait and retry), for 2 engines x 2 connections.
        write_executable(os.path.join(work, "fake-i-pi"), f"""#!/usr/bin/env bash
port=$(grep -o '<port>[0-9]*</port>' "$1" | tr -dc 0-9)
sleep 2
exec /usr/bin/python3 {server} --address tcp:0.0.0.0:$port --connections 4 --steps 3 --atoms 13 \\
  --results results.json --timeout 30
""")
        run_dir = os.path.join(work, "run")
        environment = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", SLURM_JOB_NODELIST="n1,n2,n3",
                           SLURM_JOB_ID="4242", SLURM_CPUS_PER_TASK="2", SLURM_SUBMIT_DIR=REPO,
                           PORT=str(free_port()), RUN_DIR=run_dir, CHORUS=args.chorus,
                           IPI=os.path.join(work, "fake-i-pi"), WAIT_FOR="60", SPECIES="Ar",
                           MODEL=os.path.join(REPO, "models", "pretrained", "argon-lj-committee.json"))

        dry = subprocess.run(["bash", SLURM_RECIPE], env=dict(environment, DRY_RUN="1"), capture_output=True,
                             text=True, timeout=30)
        check(dry.returncode == 0, "DRY_RUN=1 of the Slurm recipe", got=dry.stderr)
        steps = [line for line in dry.stdout.splitlines() if line.startswith("DRY_RUN: srun")]
        # The recipe starts every step in the background, so the order of the printed lines is not fixed.
        nodes = sorted(step.split("--nodelist=")[1].split()[0] for step in steps if "--nodelist=" in step)
        check(len(steps) == 3 and nodes == ["n1", "n2", "n3"],
              "DRY_RUN: one i-PI step on n1, engines on n2 and n3", got=dry.stdout)

        # Its own process group, so that a hung run is killed whole, stand-in i-PI and engines too.
        process = subprocess.Popen(["bash", SLURM_RECIPE], env=environment, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            output += "\n(killed after 120 s)"
        finally:
            try:  # whatever the recipe left running (it must leave nothing)
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        logs = {name: read(os.path.join(run_dir, name)) for name in os.listdir(run_dir) if name.endswith(".log")}
        check(process.returncode == 0, "the Slurm recipe with faked srun ends cleanly",
              got=output + json.dumps(logs, indent=1))
        address = read(os.path.join(run_dir, "ipi-address")).strip()
        check(address.endswith(f":{environment['PORT']}"), "the handover file names i-PI's port", got=address)
        staged = read(os.path.join(run_dir, "water-remd-committee.xml"))
        check(f"<port>{environment['PORT']}</port>" in staged and "<address>0.0.0.0</address>" in staged,
              "the run folder's input listens on the job's port, on every interface")
        with open(os.path.join(run_dir, "results.json"), encoding="utf-8") as handle:
            results = json.load(handle)
        answered = [(len(connection["energies_ha"]), connection["error"]) for connection in results]
        check(answered == [(3, None)] * 4, "every connection of both engines answered every request", got=answered)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    check_ipi_inputs()
    check_water_start_file()
    check_compose()
    check_dockerfile()
    check_scripts()
    check_slurm_run()


run_test(main)
