"""Varied job objects (docs/protocol.md §3.5) for the listing-decode tests: optional fields
present and absent, org and no org, mounts, secrets, disks, HTTP, tags, status histories, and
URLs that need quoting or normalising (the decoder's fast path must not take them)."""

from typing import Any

JSON = dict[str, Any]


def _job(job_id: str, owner: str, cluster: str, org: str | None, status: str) -> JSON:
    prefix = f"{org}/" if org else ""
    return {
        "id": job_id,
        "owner": owner,
        "cluster_name": cluster,
        "uri": f"job://{cluster}/{prefix}{owner}/{job_id}",
        "status": status,
        "scheduler_enabled": False,
        "pass_config": False,
        "total_price_credits": "0",
        "price_credits_per_hour": "0",
    }


def listing_cases() -> dict[str, JSON]:
    cases: dict[str, JSON] = {}

    # What our server sends for a finished job: every key, null where unset.
    done = _job("job-00000000-aaaa-4bbb-8ccc-000000000001", "alice", "default", None, "succeeded")
    done |= {
        "org_name": None,
        "project_name": "alice",
        "name": None,
        "description": None,
        "tags": [],
        "preset_name": "cpu-small",
        "history": {
            "status": "succeeded",
            "reason": None,
            "description": None,
            "created_at": "2026-12-06T10:00:00.123456+00:00",
            "started_at": "2026-12-06T10:00:01.223456+00:00",
            "finished_at": "2026-12-06T10:00:05.323456+00:00",
            "run_time_seconds": 4.1,
            "restarts": 0,
            "exit_code": 0,
        },
        "statuses": [
            {
                "status": "pending",
                "transition_time": "2026-12-06T10:00:00.123456+00:00",
                "reason": "Creating",
                "description": None,
            },
            {"status": "running", "transition_time": "2026-12-06T10:00:01.223456+00:00"},
            {
                "status": "succeeded",
                "transition_time": "2026-12-06T10:00:05.323456+00:00",
                "exit_code": 0,
            },
        ],
        "container": {
            "image": "neuro-base/busybox:latest",
            "command": "echo hi",
            "entrypoint": None,
            "working_dir": None,
            "resources": {"cpu": 0.1, "memory": 104857600, "memory_mb": 100, "shm": False},
            "env": {},
            "volumes": [],
            "secret_env": {},
            "secret_volumes": [],
            "disk_volumes": [],
            "tty": False,
        },
        "scheduler_enabled": False,
        "preemptible_node": False,
        "privileged": False,
        "restart_policy": "never",
        "priority": "normal",
        "materialized": True,
        "being_dropped": False,
        "logs_removed": False,
        "total_price_credits": "0.000",
        "price_credits_per_hour": "0",
        "internal_hostname": "job-00000000-aaaa-4bbb-8ccc-000000000001.platform-jobs",
        "internal_hostname_named": None,
        "http_url": "http://job-00000000-aaaa-4bbb-8ccc-000000000001.jobs.localhost",
        "max_run_time_minutes": None,
        "schedule_timeout": None,
    }
    cases["finished, no org"] = done

    # Everything set, in an org, platform image, TPU, HTTP with a named URL.
    full = _job("job-0b1e7f5c-1111-4a4b-9d1e-0123456789ab", "alice", "default", "acme", "failed")
    full |= {
        "org_name": "acme",
        "name": "trainer",
        "description": "nightly training",
        "tags": ["nightly", "team:ml"],
        "preset_name": "gpu-large",
        "history": {
            "status": "failed",
            "reason": "OOMKilled",
            "description": "Out of memory",
            "created_at": "2024-03-01T10:00:00+00:00",
            "started_at": "2024-03-01T10:00:05+00:00",
            "finished_at": "2024-03-01T10:01:05+00:00",
            "run_time_seconds": 60.0,
            "restarts": 2,
            "exit_code": 137,
        },
        "statuses": [
            {
                "status": "pending",
                "transition_time": "2024-03-01T10:00:00+00:00",
                "reason": "Creating",
            },
            {"status": "running", "transition_time": "2024-03-01T10:00:05+00:00", "reason": None},
            {
                "status": "failed",
                "transition_time": "2024-03-01T10:01:05+00:00",
                "reason": "OOMKilled",
                "description": "Out of memory",
                "exit_code": 137,
            },
        ],
        "container": {
            "image": "image://default/acme/alice/trainer:v1",
            "entrypoint": "/bin/sh -c",
            "command": "python train.py",
            "working_dir": "/work",
            "env": {"MODE": "fast", "EMPTY": ""},
            "volumes": [
                {"src_storage_uri": "storage://default/acme/alice/data", "dst_path": "/data"},
                {
                    "src_storage_uri": "storage://default/acme/alice/out",
                    "dst_path": "/out",
                    "read_only": False,
                },
            ],
            "secret_volumes": [
                {"src_secret_uri": "secret://default/acme/alice/key", "dst_path": "/key"}
            ],
            "disk_volumes": [
                {
                    "src_disk_uri": "disk://default/acme/alice/disk-1",
                    "dst_path": "/disk",
                    "read_only": False,
                },
                {"src_disk_uri": "disk://default/acme/alice/disk-2", "dst_path": "/disk2"},
            ],
            "secret_env": {"TOKEN": "secret://default/acme/alice/token"},
            "tty": True,
            "resources": {
                "cpu": 0.5,
                "memory": 512 * 2**20,
                "memory_mb": 512,
                "shm": True,
                "gpu": 1,
                "gpu_model": "nvidia-h100",
                "tpu": {"type": "v2-8", "software_version": "1.14"},
            },
            "http": {"port": 8080, "health_check_path": "/", "requires_auth": False},
        },
        "scheduler_enabled": True,
        "preemptible_node": True,
        "pass_config": True,
        "privileged": True,
        "restart_policy": "on-failure",
        "priority": "high",
        "materialized": True,
        "being_dropped": False,
        "logs_removed": True,
        "total_price_credits": "1.25",
        "price_credits_per_hour": "3.5",
        "schedule_timeout": 300.0,
        "max_run_time_minutes": 90,
        "http_url": "http://job-0b1e7f5c.jobs.example.com",
        "http_url_named": "http://trainer--alice.jobs.example.com",
        "internal_hostname": "job-0b1e7f5c.platform-jobs",
        "internal_hostname_named": "trainer--alice.platform-jobs",
    }
    cases["everything, org"] = full

    # Only what the SDK requires; 22.7's bytes-only memory; no statuses at all.
    minimal = _job("job-minimal", "bob", "default", None, "pending")
    minimal |= {
        "history": {"status": "pending"},
        "container": {"image": "ubuntu:22.04", "resources": {"cpu": 1, "memory": 2**30}},
    }
    cases["minimal"] = minimal

    # Running on another cluster: HTTP without requires_auth, a status and priority this SDK
    # spells differently or does not know, Z and +02:00 offsets, empty strings.
    odd = _job("job-odd", "carol", "other", None, "running")
    odd |= {
        "org_name": None,
        "name": "web",
        "description": "",
        "tags": ["a"],
        "history": {
            "status": "running",
            "reason": "",
            "description": "",
            "created_at": "2025-01-02T03:04:05Z",
            "started_at": "2025-01-02T05:04:06.5+02:00",
            "restarts": 1,
        },
        "statuses": [
            {"status": "pending", "transition_time": "2025-01-02T03:04:05Z"},
            {"status": "suspended", "transition_time": "2025-01-02T03:04:05.000001+00:00"},
            {"status": "weird-new-status", "transition_time": "2025-01-02T05:04:06.5+02:00"},
        ],
        "container": {
            "image": "registry.other.org/carol/web:latest",
            "resources": {"cpu": 2, "memory": 3 * 2**30, "gpu": 0, "shm": True},
            "http": {"port": 80},
            "env": {"A": "1"},
            "volumes": [{"src_storage_uri": "storage://other/carol", "dst_path": "/s"}],
        },
        "restart_policy": "always",
        "priority": "LOW",
        "max_run_time_minutes": 0,
        "schedule_timeout": 10,
        "http_url": "http://job-odd.jobs.localhost:8080",
        "total_price_credits": "12.500",
        "price_credits_per_hour": "1E+1",
    }
    cases["running, odd values"] = odd

    # URLs that need quoting or normalising: the results must be what yarl's URL(text) makes.
    hostile = _job("job-hostile", "dave", "Default", "Acme", "cancelled")
    hostile |= {
        "uri": "job://Default/Acme/dave/job-hostile",
        "org_name": "Acme",
        "history": {"status": "cancelled", "finished_at": "2025-06-01T00:00:00+00:00"},
        "statuses": [],
        "container": {
            "image": "busybox",
            "resources": {"cpu": 0.25, "memory_mb": 64, "memory": 1},
            "volumes": [
                {"src_storage_uri": "storage://default/dave/my data", "dst_path": "/a"},
                {"src_storage_uri": "storage://default/dave/my%20data", "dst_path": "/b"},
                {"src_storage_uri": "storage://default/dave/данные", "dst_path": "/c"},
                {"src_storage_uri": "storage://default/dave/a/../b/./c", "dst_path": "/d"},
                {"src_storage_uri": "storage://default/dave/x/", "dst_path": "/e"},
                {"src_storage_uri": "storage://default/dave//y", "dst_path": "/f"},
            ],
            "secret_env": {
                "Q": "secret://default/dave/k?x=1#frag",
                "UP": "secret://DEFAULT/dave/K",
            },
            "secret_volumes": [
                {"src_secret_uri": "secret:k", "dst_path": "/k"},
                {"src_secret_uri": "secret://default/dave/k%2Fslash", "dst_path": "/s"},
            ],
            "disk_volumes": [{"src_disk_uri": "disk:disk-1", "dst_path": "/disk"}],
        },
        "http_url": "",
        "http_url_named": "http://Name--Dave.Jobs.Example.COM/path with space",
        "restart_policy": "on-failure",
        "priority": None,
    }
    cases["hostile URLs"] = hostile
    return cases
