# convnet serve in a minimal image: one static binary (the built-in models
# and the demo page are embedded in it) on distroless's static base, run as
# a non-root user. Build and run:
#
#	docker build -t convnet .
#	docker run --rm -p 8080:8080 convnet
#
# The build command below is the one internal/cli's TestDockerfile runs (it
# builds the same binary without Docker and checks that it is static).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -ldflags="-s -w -X github.com/convnet-go/convnet/internal/version.override=${VERSION}" -o /out/convnet ./cmd/convnet

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/convnet /convnet
USER 65532:65532
EXPOSE 8080
# Ready: the models are loaded and the server takes work (503 while it
# drains on SIGTERM).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["/convnet", "healthcheck", "--url", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/convnet"]
CMD ["serve", "--addr", ":8080", "--log-format", "json"]
