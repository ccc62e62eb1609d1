#include "with_rest.h"

#include "server/config.h"
#include "server/pkcs11_service.h"
#include "server/rest/rest_server.h"

namespace ferrohsm::server::rest {
namespace {

class WithRest final : public Service {
 public:
  WithRest(std::unique_ptr<Service> inner, std::unique_ptr<RestServer> rest)
      : inner_(std::move(inner)), rest_(std::move(rest)) {}
  ~WithRest() override { rest_.reset(); }  // the REST listener stops before the core goes

  std::unique_ptr<Application> open(const Peer& peer, const Grant& grant) override { return inner_->open(peer, grant); }
  std::vector<uint32_t> functions() const override { return inner_->functions(); }
  bool slow(uint32_t function) const override { return inner_->slow(function); }
  ServiceStatus status() const override { return inner_->status(); }
  Status reload(const ServerConfig& config) override {
    FH_TRY(inner_->reload(config));
    rest_->set_access(config.access);
    (void)rest_->reload_tls(config);  // a failure keeps the REST listener's files in force and is logged
    return {};
  }

 private:
  std::unique_ptr<Service> inner_;
  std::unique_ptr<RestServer> rest_;
};

}  // namespace

Result<std::unique_ptr<Service>> with_rest(std::unique_ptr<Service> pkcs11, const ServerConfig& config) {
  if (config.rest.listen.empty()) return pkcs11;
  auto* p = dynamic_cast<Pkcs11Service*>(pkcs11.get());
  if (p == nullptr) return make_error(CKR_GENERAL_ERROR, "the REST API serves the PKCS#11 service's core");
  FH_ASSIGN_OR_RETURN(std::unique_ptr<RestServer> rest, RestServer::start(config, p->core_ptr()));
  return std::unique_ptr<Service>(std::make_unique<WithRest>(std::move(pkcs11), std::move(rest)));
}

}  // namespace ferrohsm::server::rest
