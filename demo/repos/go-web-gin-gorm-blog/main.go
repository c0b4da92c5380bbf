package main

import (
	"gin-blog/handler"
	"gin-blog/model"

	"github.com/gin-gonic/gin"
)

func main() {
	model.Setup()
	r := gin.Default()
	r.GET("/articles", handler.ListArticles)
	r.GET("/articles/:id", handler.GetArticle)
	r.POST("/articles", handler.CreateArticle)
	r.Run(":8000")
}
