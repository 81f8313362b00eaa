module github.com/obxhub/obx

go 1.26
