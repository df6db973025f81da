// Command local-kms serves the AWS KMS emulator github.com/nsmithuk/local-kms on 127.0.0.1
// only (its own main listens on every interface and has no host setting), for the SOPS AWS KMS
// tests. Environment: PORT (required), KMS_DATA_PATH (required), KMS_REGION (default
// us-east-1), KMS_ACCOUNT_ID (default 111122223333).
package main

import (
	"log"
	"net"
	"net/http"
	"os"

	localkms "github.com/nsmithuk/local-kms/src"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
)

func main() {
	port, dataPath := os.Getenv("PORT"), os.Getenv("KMS_DATA_PATH")
	if port == "" || dataPath == "" {
		log.Fatal("local-kms: PORT and KMS_DATA_PATH are required")
	}
	config.AWSRegion = envOr("KMS_REGION", "us-east-1")
	config.AWSAccountId = envOr("KMS_ACCOUNT_ID", "111122223333")
	config.DatabasePath = dataPath
	db := data.NewDatabase(dataPath)
	defer db.Close()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("local-kms: serving on %s", ln.Addr())
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		localkms.HandleRequest(w, r, db)
	})))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
