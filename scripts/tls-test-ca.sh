#!/bin/sh
# A test CA and a server certificate signed by it, for trying softtoken-server over HTTPS
# (README, "TLS for a first try"). Writes into the directory given (default: the current
# one): ca.pem (give it to the token with --ca-file), server.crt and server.key (give them
# to the server with --tls-cert and --tls-key). README shows these same lines; the CLI's
# test `tls_first_try` runs this file and checks README still holds each command.
set -eu
cd "${1:-.}"

# 1. The CA: a self-signed certificate that may sign others (CA:TRUE, keyCertSign).
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=softtoken test CA" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout ca.key -out ca.pem

# 2. The server's key and a request for its certificate.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr

# 3. What the server certificate says: not a CA, for TLS servers, for these names.
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" > server.ext

# 4. The CA signs it.
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile server.ext -out server.crt
