module "host_prod" {
  source          = "./modules/project"
  name            = "lz-host-prod"
  org_id          = var.org_id
  billing_account = var.billing_account
  labels = {
    cost-center         = "cc-0001"
    owner               = "platform-team"
    environment         = "prod"
    data-classification = "internal"
  }
}

module "payments_prod" {
  source          = "./modules/project"
  name            = "payments-prod"
  org_id          = var.org_id
  billing_account = var.billing_account
  labels = {
    cost-center         = "cc-2040"
    owner               = "payments"
    environment         = "prod"
    data-classification = "confidential"
  }
}
