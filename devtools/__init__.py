"""Developer tooling kept out of the product apps: the demo organisation, the benchmark, real Celery workers."""
