# The test container of docker-compose.yml: Python 3 and python-gitlab, nothing else.
# (Outside this repository's own CI, `FROM python:3.12-slim` + `pip install python-gitlab`
# does the same; this one starts from debian:bookworm-slim so it builds wherever that does.)
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /venv \
 && PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    /venv/bin/pip install --no-cache-dir --disable-pip-version-check python-gitlab==8.6.0
ENV PATH=/venv/bin:$PATH
USER 65532:65532
WORKDIR /tests
COPY test_with_python_gitlab.py /tests/
CMD ["python3", "/tests/test_with_python_gitlab.py"]
