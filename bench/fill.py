"""Fill the database named by DATABASE_URL with credentials and deployments (for load and export)."""

import argparse
import time
import uuid

from common import setup_django


def fill(credentials: int, deployments: int) -> None:
    from django.db import transaction

    from credentials.models import Credential
    from credentials.values import masks
    from models_registry.models import ModelDeployment

    with transaction.atomic():
        rows = []
        for i in range(credentials):
            secrets = {"api_key": f"sk-bench-{i:06d}-0123456789abcdefghij"}
            rows.append(
                Credential(
                    name=f"bench credential {i:05d} {uuid.uuid4().hex[:8]}",
                    provider="openai",
                    secrets=secrets,
                    masked=masks(secrets),
                    params={"api_base": "https://api.openai.com/v1"},
                )
            )  # fmt: skip
        Credential.objects.bulk_create(rows, batch_size=1000)
        ids = list(Credential.objects.values_list("pk", flat=True))
        ModelDeployment.objects.bulk_create(
            (
                ModelDeployment(
                    model_name=f"model-{i % 500}",
                    provider="openai",
                    litellm_model=f"openai/model-{i:05d}-{uuid.uuid4().hex[:6]}",
                    credential_id=ids[i % len(ids)],
                    params={"rpm": 600},
                    model_info={"mode": "chat"},
                )
                for i in range(deployments)
            ),
            batch_size=1000,
        )  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--credentials", type=int, default=1000)
    parser.add_argument("--deployments", type=int, default=10000)
    args = parser.parse_args()
    setup_django()
    start = time.perf_counter()
    fill(args.credentials, args.deployments)
    seconds = time.perf_counter() - start
    print(f"filled {args.credentials} credentials and {args.deployments} deployments in {seconds:.1f}s")
