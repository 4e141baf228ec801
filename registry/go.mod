module github.com/portcullis/portcullis/registry

go 1.26.8
