# Sourced by the benchmark scripts: nginx as the reference server, serving the same bytes.
# start_nginx WORK PORT CHECK_PATH starts nginx on 127.0.0.1:PORT with root WORK/www (sendfile,
# keep-alive, no access log), sets NGINX_PID, and exits the script unless CHECK_PATH answers 200
# (nginx's workers run as nobody: an unreadable folder would make the reference 403 pages).
start_nginx() {
  local work=$1 port=$2 check=$3
  chmod 755 "$work"
  cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  keepalive_requests 1000000;
  sendfile on;
  server { listen 127.0.0.1:$port; root $work/www; }
}
NGINX
  nginx -c "$work/nginx.conf" &
  NGINX_PID=$!
  sleep 0.5
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$check")
  [ "$code" = 200 ] || { echo "nginx answers $code, not 200: the reference would be wrong"; exit 1; }
}
