package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	sourcev1 "gotk.dev/source-controller/api/v1"
)

// sourceBucketFlags are create source bucket's own flags.
type sourceBucketFlags struct {
	bucketName, endpoint, region, provider string
	accessKey, secretKey                   string
	secretRef, proxySecretRef              string
	ignorePaths                            []string
	insecure                               bool
}

func newCreateSourceBucketCommand(c *Command, cf *createFlags, sf *sourceFlags) *cobra.Command {
	f := &sourceBucketFlags{}
	cmd := &cobra.Command{
		Use:   "bucket [name]",
		Short: "Create or update a Bucket source",
		Long: `The create source bucket command generates a Bucket resource and waits for it to be downloaded.
For Buckets with static authentication, the credentials are stored in a Kubernetes secret named after the source.`,
		Example: `  # Create a source for a Bucket using static authentication
  flux create source bucket podinfo \
    --bucket-name=podinfo \
    --endpoint=minio.minio.svc.cluster.local:9000 \
    --insecure=true \
    --access-key=myaccesskey \
    --secret-key=mysecretkey \
    --interval=10m

  # Create a source for an Amazon S3 Bucket using IAM authentication
  flux create source bucket podinfo \
    --bucket-name=podinfo \
    --provider=aws \
    --endpoint=s3.amazonaws.com \
    --region=us-east-1 \
    --interval=10m`,
		Args: nameArg("Bucket source"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.createSourceBucket(cmd, cf, sf, f, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.bucketName, "bucket-name", "", "the bucket name")
	fs.StringVar(&f.endpoint, "endpoint", "", "the bucket endpoint address")
	fs.StringVar(&f.region, "region", "", "the bucket region")
	fs.StringVar(&f.provider, "provider", sourcev1.BucketProviderGeneric, "the S3 compatible storage provider name, available options are: (generic, aws, azure, gcp)")
	fs.StringVar(&f.accessKey, "access-key", "", "the bucket access key")
	fs.StringVar(&f.secretKey, "secret-key", "", "the bucket secret key")
	fs.StringVar(&f.secretRef, "secret-ref", "", "the name of an existing secret containing credentials")
	fs.StringVar(&f.proxySecretRef, "proxy-secret-ref", "", "the name of an existing secret containing the proxy address and credentials")
	fs.StringSliceVar(&f.ignorePaths, "ignore-paths", nil, "set paths to ignore in bucket resource (can specify multiple paths with commas: path1,path2)")
	fs.BoolVar(&f.insecure, "insecure", false, "for when connecting to a non-TLS S3 HTTP endpoint")
	return cmd
}

// bucket builds the Bucket the flags describe.
func (f *sourceBucketFlags) bucket(name, ns string, cf *createFlags, sf *sourceFlags) (*sourcev1.Bucket, error) {
	labels, err := parseLabels(cf.labels)
	if err != nil {
		return nil, err
	}
	switch {
	case f.bucketName == "":
		return nil, errors.New("--bucket-name is required")
	case f.endpoint == "":
		return nil, errors.New("--endpoint is required")
	case (f.accessKey == "") != (f.secretKey == ""):
		return nil, errors.New("--access-key and --secret-key go together")
	case f.accessKey != "" && f.secretRef != "":
		return nil, errors.New("--access-key/--secret-key and --secret-ref cannot be used together")
	}
	switch f.provider {
	case sourcev1.BucketProviderGeneric, sourcev1.BucketProviderAmazon, sourcev1.BucketProviderAzure, sourcev1.BucketProviderGoogle:
	default:
		return nil, fmt.Errorf("invalid --provider %q: want generic, aws, azure or gcp", f.provider)
	}
	b := &sourcev1.Bucket{
		TypeMeta:   metav1.TypeMeta{APIVersion: sourcev1.GroupVersion.String(), Kind: sourcev1.BucketKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: sourcev1.BucketSpec{
			Provider:   f.provider,
			BucketName: f.bucketName,
			Endpoint:   f.endpoint,
			Region:     f.region,
			Insecure:   f.insecure,
			Interval:   metav1.Duration{Duration: cf.interval},
		},
	}
	if sf.fetchTimeout > 0 {
		b.Spec.Timeout = &metav1.Duration{Duration: sf.fetchTimeout}
	}
	if f.secretRef != "" {
		b.Spec.SecretRef = &meta.LocalObjectReference{Name: f.secretRef}
	}
	if f.proxySecretRef != "" {
		b.Spec.ProxySecretRef = &meta.LocalObjectReference{Name: f.proxySecretRef}
	}
	if len(f.ignorePaths) > 0 {
		ignore := strings.Join(f.ignorePaths, "\n")
		b.Spec.Ignore = &ignore
	}
	return b, nil
}

func (c *Command) createSourceBucket(cmd *cobra.Command, cf *createFlags, sf *sourceFlags, f *sourceBucketFlags, name string) error {
	b, err := f.bucket(name, c.Global.Namespace, cf, sf)
	if err != nil {
		return err
	}
	t, err := c.beginCreate(cmd, cf, b)
	if err != nil || t == nil {
		return err
	}
	defer t.cancel()
	ctx, kube, u := t.ctx, t.kube, t.u
	log := c.Log()
	log.Generatef("generating Bucket source")
	var secret *appliedSecret
	if f.accessKey != "" {
		log.Actionf("applying secret with the bucket credentials")
		data := map[string]string{"accesskey": f.accessKey, "secretkey": f.secretKey}
		if secret, err = applySecret(ctx, kube, newSecret(name, b.Namespace, b.Labels, "", data)); err != nil {
			return err
		}
		if err := unstructured.SetNestedField(u.Object, name, "spec", "secretRef", "name"); err != nil {
			return err
		}
		log.Successf("authentication configured")
	}
	k, _ := LookupKind("source", "bucket")
	got, applied, err := c.applyAndWait(ctx, kube, k, u, "Bucket source")
	if err != nil {
		if !applied {
			secret.rollback(ctx, kube, log, "Bucket")
		}
		return err
	}
	log.Successf("Bucket source reconciliation completed")
	if _, ok, _ := unstructured.NestedMap(got.Object, "status", "artifact"); !ok {
		return errors.New("Bucket source reconciliation completed but no artifact was found")
	}
	log.Successf("%s", revisionMessage(k, got, ":"))
	return nil
}
