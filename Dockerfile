# One image for the four services and the web console; which one is chosen by the command:
#   docker build -t jinhui .
#   docker run jinhui members            (or entitlements, disbursements, hardship, console)
#   docker run jinhui migrate members    (what the init container runs before a new version serves)

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/jinhui
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY jinhui ./jinhui
COPY services ./services
COPY console ./console
COPY docs ./docs
RUN /opt/jinhui/bin/pip install --upgrade pip && /opt/jinhui/bin/pip install .

FROM python:3.11-slim
RUN groupadd --system --gid 10001 jinhui \
    && useradd --system --uid 10001 --gid jinhui --no-create-home --shell /usr/sbin/nologin jinhui
COPY --from=build /opt/jinhui /opt/jinhui
COPY deploy/entrypoint.sh /usr/local/bin/jinhui-entrypoint
ENV PATH=/opt/jinhui/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=prod \
    LOG_JSON=true
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["jinhui-entrypoint"]
CMD ["members"]
