# Sourced by bench/run.sh: the PostgreSQL part of `make bench` (issue 16; BENCH_PG=0 skips
# it). A private PostgreSQL server (initdb in /tmp — the same disk as the build tree here,
# a short path for its socket — a Unix socket only, run as the postgres user when the
# bench runs as root; durable: fsync and synchronous_commit stay on), then:
#   peer postgres      the embedded library on it: durable creation at 1, 2 and 8 threads,
#                      find by label among BENCH_PG_STAGE objects (default: the largest
#                      stage), login and memory, beside the SQLite rows (peer ferrohsm)
#   peer pg-1-server   BENCH_PG_PROCS client processes signing ECDSA P-256 through one
#                      ferrohsm-server on that database (sidecar, unix:)
#   peer pg-2-servers  the same processes through two servers on the same database, half each
# Populating: one object through the library, then the rest in one INSERT … SELECT (copies
# of its rows, relabelled, without their MAC); the next login MACs them, as it does for
# objects written without a login. Bounded: every process started here is stopped by pid
# (pg_cleanup, also from run.sh's exit trap).
# Knobs: BENCH_PG_STAGE, BENCH_PG_PROCS (default 8), BENCH_PG_SETTINGS (extra
# "-c name=value" for postgres, e.g. "-c commit_delay=1000 -c commit_siblings=2").

PG_PID="" PGA_PID="" PGB_PID="" PG_DIR=""
pg_cleanup() {
  stop_pid "$PGA_PID"
  stop_pid "$PGB_PID"
  PGA_PID="" PGB_PID=""
  if [[ -n $PG_PID ]]; then
    kill -INT "$PG_PID" 2>/dev/null || true  # PostgreSQL's fast shutdown
    for _ in $(seq 300); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PG_PID" 2>/dev/null || true
    wait "$PG_PID" 2>/dev/null || true
    PG_PID=""
  fi
  if [[ -n $PG_DIR ]]; then rm -rf "$PG_DIR"; fi
  PG_DIR=""
}

pg_part() {
  local bin user as=() stage=${BENCH_PG_STAGE:-${STAGES##* }} procs=${BENCH_PG_PROCS:-8}
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  if [[ -z $bin || ! -x $bin/initdb ]]; then
    echo "bench: PostgreSQL is not installed (apt-get install postgresql); the PostgreSQL rows stay empty" >&2
    return 0
  fi
  PG_DIR=$(mktemp -d /tmp/fh-bench-pg.XXXXXX)
  user=$(id -un)
  if [[ $(id -u) == 0 ]]; then  # PostgreSQL refuses root
    as=(setpriv --reuid=postgres --regid=postgres --clear-groups)
    user=postgres
    chown postgres: "$PG_DIR"
  fi
  if ! "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U "$user" -A trust -E UTF8 --locale=C --no-sync \
      >"$PG_DIR/initdb.log" 2>&1; then
    cat "$PG_DIR/initdb.log" >&2
    return 1
  fi
  # shellcheck disable=SC2086  # BENCH_PG_SETTINGS is a list of -c options
  "${as[@]}" "$bin/postgres" -D "$PG_DIR/data" -k "$PG_DIR" -c listen_addresses= -c max_connections=100 \
    -c shared_buffers=128MB ${BENCH_PG_SETTINGS:-} >"$PG_DIR/postgres.log" 2>&1 &
  PG_PID=$!
  pg_ready() { "$bin/pg_isready" -q -h "$PG_DIR"; }
  if ! await postgres "$PG_PID" pg_ready; then
    cat "$PG_DIR/postgres.log" >&2
    return 1
  fi
  pg_sql() { "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -U "$user" -d "$@"; }
  pg_sql postgres -c "CREATE DATABASE ferrohsm"
  say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') (pid $PG_PID) on $PG_DIR:" \
    "$(pg_sql ferrohsm -At -c "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings
       WHERE name IN ('fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay', 'commit_siblings')")"
  cat >"$WORK/pg.toml" <<TOML
[store]
backend = "postgres"
url = "host=$PG_DIR port=5432 user=$user dbname=ferrohsm"
pool_size = 16

[log]
level = "error"
TOML
  CONF[postgres]=$WORK/pg.toml
  say "setting up the PostgreSQL token (the same keys)"
  FERROHSM_CONF=$WORK/pg.toml "$BIN" setup --module "$FERRO" --label $LABEL

  for r in $(seq "$ROUNDS"); do
    say "round $r/$ROUNDS: durable object create/destroy, postgres"
    run postgres create --peer postgres --module "$FERRO" --label $LABEL
  done

  # Population: bench-obj-0000000 through the library (its find figure is not kept), then
  # copies of its rows under the other labels in one statement.
  local t0=$SECONDS
  FERROHSM_CONF=$WORK/pg.toml "$BIN" objects --peer postgres --module "$FERRO" --label $LABEL --stage 1 \
    --login-runs 0 >/dev/null
  if ((stage > 1)); then
    pg_sql ferrohsm -c "
      WITH t AS (SELECT id, token_id, class, key_type, ckid, private FROM objects
                 WHERE label = convert_to('bench-obj-0000000', 'UTF8')),
      made AS (INSERT INTO objects(token_id, class, key_type, label, ckid, private)
               SELECT t.token_id, t.class, t.key_type, convert_to('bench-obj-' || lpad(g::text, 7, '0'), 'UTF8'),
                      t.ckid, t.private
               FROM t, generate_series(1, $((stage - 1))) AS g RETURNING id, label)
      INSERT INTO attributes(object_id, type, value, sealed)
      SELECT made.id, a.type, CASE WHEN a.type = 3 THEN made.label ELSE a.value END, a.sealed
      FROM made, t JOIN attributes a ON a.object_id = t.id"
  fi
  say "populated $stage objects on PostgreSQL in $((SECONDS - t0)) s (one through the library, the rest in one INSERT)"
  for r in $(seq "$ROUNDS"); do
    if [[ $r == 1 ]]; then say "stage $stage objects: round 1, postgres (its first login MACs the copied objects)"
    else say "stage $stage objects: round $r, postgres"; fi
    run postgres objects --peer postgres --module "$FERRO" --label $LABEL --stage "$stage" --max-objects 0 \
      --populate-seconds "$POPULATE"
  done

  # Two ferrohsm-servers on the same database, Unix sockets only.
  if [[ ! -x $SERVER ]]; then
    echo "bench: $SERVER is missing (make bench builds it); the two-server rows stay empty" >&2
    return 0
  fi
  local s
  for s in a b; do
    cat >"$WORK/pg-server-$s.toml" <<TOML
[server]
listen = ["unix:$WORK/pg-$s.sock"]

[[access]]
peer = "uid:$(id -u)"
tokens = ["*"]

[store]
backend = "postgres"
url = "host=$PG_DIR port=5432 user=$user dbname=ferrohsm"
pool_size = 8

[log]
level = "info"
TOML
    cat >"$WORK/pg-$s.toml" <<TOML
mode = "sidecar"
[sidecar]
endpoints = ["unix:$WORK/pg-$s.sock"]
[log]
level = "error"
TOML
  done
  "$SERVER" --config "$WORK/pg-server-a.toml" >"$WORK/pg-server-a.log" 2>&1 &
  PGA_PID=$!
  "$SERVER" --config "$WORK/pg-server-b.toml" >"$WORK/pg-server-b.log" 2>&1 &
  PGB_PID=$!
  serving() { grep -q 'serving with' "$WORK/pg-server-$1.log"; }
  if ! await "ferrohsm-server a" "$PGA_PID" serving a || ! await "ferrohsm-server b" "$PGB_PID" serving b; then
    cat "$WORK/pg-server-a.log" "$WORK/pg-server-b.log" >&2
    return 1
  fi
  CONF[pg-1-server]=$WORK/pg-a.toml
  CONF[pg-2-servers]=$WORK/pg-a.toml
  say "two ferrohsm-servers on the database (pids $PGA_PID, $PGB_PID); $(nproc) cores for servers, clients and PostgreSQL"
  for r in $(seq "$ROUNDS"); do
    for p in pg-1-server pg-2-servers; do
      say "round $r/$ROUNDS: $procs client processes signing, $p (load average $(cut -d' ' -f1 /proc/loadavg))"
      local confs=$WORK/pg-a.toml
      [[ $p == pg-2-servers ]] && confs=$WORK/pg-a.toml,$WORK/pg-b.toml
      BENCH_SECONDS=${BENCH_PROCESS_SECONDS:-1} run "$p" processes --peer "$p" --module "$FERRO" --label $LABEL \
        --procs "$procs" --only "sign ECDSA P-256 32B digest" --confs "$confs"
    done
  done
  pg_cleanup
}
