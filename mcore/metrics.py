"""This process's Prometheus metrics (``prometheus-client``'s process registry).

Each process (every ``mstack serve`` and ``mstack worker``) keeps and serves its own;
Prometheus scrapes each and sums across them, which is how counters and histograms of
several processes are meant to add up. Gauges of shared state (the job queue) are read
from the database at scrape time, so every process reports the same queue.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

http_requests = Counter(
    "mstack_http_requests", "HTTP requests answered.", ["route", "method", "status"]
)
http_latency = Histogram(
    "mstack_http_request_duration_seconds",
    "Time from a request's start to its last byte sent.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
http_bytes_in = Counter("mstack_http_received_bytes", "Request body bytes received.", ["route"])
http_bytes_out = Counter("mstack_http_sent_bytes", "Response body bytes sent.", ["route"])
uploads = Counter(
    "mstack_uploads", "Upload requests by outcome (stored, refused, failed).", ["outcome"]
)
event_sockets = Gauge("mstack_event_sockets_open", "Live event WebSockets open.")
blob_store_errors = Counter(
    "mstack_blob_store_errors", "Blob store failures answered 503 or 507.", ["kind"]
)
blob_store_latency = Histogram(
    "mstack_blob_store_request_duration_seconds",
    "Time of each request to a remote blob store (S3), by operation.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
jobs = Gauge("mstack_jobs", "Jobs in the database by kind and state.", ["kind", "state"])
queue_depth = Gauge("mstack_job_queue_depth", "Jobs queued, by lane.", ["lane"])
queue_oldest = Gauge(
    "mstack_job_queue_oldest_seconds", "Age of the oldest queued job, by lane.", ["lane"]
)
worker_slots = Gauge("mstack_worker_slots", "Job slots of this process's worker.")
worker_busy = Gauge("mstack_worker_busy_slots", "Job slots of this process's worker in use.")
image_cache_hits = Gauge("mstack_image_cache_hits", "On-the-fly image cache hits (process).")
image_cache_misses = Gauge("mstack_image_cache_misses", "On-the-fly image cache misses.")
image_cache_evictions = Gauge("mstack_image_cache_evictions", "On-the-fly images evicted.")
image_cache_bytes = Gauge("mstack_image_cache_bytes", "Bytes of on-the-fly images kept.")
db_pool = Gauge("mstack_db_pool_connections", "Database connections of this process.", ["state"])
