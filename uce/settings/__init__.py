"""Settings per environment: ``base`` holds everything shared; ``local``, ``test`` and
``production`` adjust it. Every value comes from an environment variable with a safe local default."""
