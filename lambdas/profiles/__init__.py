"""Customer-profile microservice: the API Gateway (REST) adapter over `omni_domain.profile_service`."""
