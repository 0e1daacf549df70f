resource "google_compute_network" "shared_prod" {
  project                 = module.host_prod.project_id
  name                    = "shared-prod"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "prod_europe_west1" {
  project                  = module.host_prod.project_id
  name                     = "prod-europe-west1"
  region                   = "europe-west1"
  network                  = google_compute_network.shared_prod.id
  ip_cidr_range            = "10.64.0.0/22"
  private_ip_google_access = true
}

resource "google_compute_firewall" "allow_iap_ssh" {
  project       = module.host_prod.project_id
  name          = "allow-iap-ssh"
  network       = google_compute_network.shared_prod.name
  direction     = "INGRESS"
  source_ranges = ["35.235.240.0/20"]
  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}
