// tributary/server.h: the endpoint (lib/endpoint) on an HTTP server, for a
// host's Store and ApplicationManager.
#include "tributary/server.h"

#include "endpoint/endpoint.h"
#include "endpoint/http_server.h"
#include "util/status_macros.h"

namespace tributary {

struct Server::Impl {
  std::unique_ptr<endpoint::Endpoint> endpoint;
  std::unique_ptr<endpoint::HttpServer> http;
  ApplicationManager* runner = nullptr;  // whose runner we started
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Shutdown();
  Wait();
  if (impl_->runner != nullptr) impl_->runner->StopRunner();
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Store* store, ApplicationManager* applications,
                                                      const ServerOptions& options) {
  if (store == nullptr) return InvalidArgumentError("Server::Start: store is null");
  auto impl = std::make_unique<Impl>();
  endpoint::EndpointOptions eo;
  eo.applications = applications;
  impl->endpoint = std::make_unique<endpoint::Endpoint>(store, eo);
  endpoint::ServerOptions so;
  so.host = options.host;
  so.port = options.port;
  so.threads = options.threads;
  TRIBUTARY_ASSIGN_OR_RETURN(impl->http, endpoint::HttpServer::Start(impl->endpoint.get(), so));
  if (applications != nullptr && options.run_applications) {
    applications->StartRunner(options.pump_interval);
    impl->runner = applications;
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::string Server::url() const { return impl_->http->url(); }
uint16_t Server::port() const { return impl_->http->port(); }
void Server::Shutdown() { impl_->http->Shutdown(); }
void Server::Wait() { impl_->http->Wait(); }

}  // namespace tributary
