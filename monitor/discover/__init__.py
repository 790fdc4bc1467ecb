"""`saksi discover`: from one seed address to a site's inventory — crawl LLDP/CDP (`crawl`, `neighbours`),
name each platform (`identify`), infer the links and their roles (`site`), write or update the file
(`inventory_file`)."""
