module github.com/convnet-go/convnet

go 1.26
