# Stand-in for python:3.12-slim: Debian's Python 3.11 with venv, `python` on PATH.
FROM parsalink-standin/base:bookworm
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv python-is-python3 \
    && rm -rf /var/lib/apt/lists/*
# pip trusts the CA bundle of the host that builds the stand-ins (with a TLS-inspecting proxy's
# CA, where there is one); installing python3 regenerates Debian's bundle without it.
COPY host-ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
