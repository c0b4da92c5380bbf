package handler

import (
	"encoding/json"
	"net/http"

	"gin-blog/model"

	"github.com/gin-gonic/gin"
)

func ListArticles(c *gin.Context) {
	var list []model.Article
	model.DB.Find(&list)
	c.JSON(http.StatusOK, list)
}

func GetArticle(c *gin.Context) {
	a, err := model.Find(c.Param("id"))
	if err != nil {
		c.JSON(http.StatusNotFound, gin.H{"error": err.Error()})
		return
	}
	c.JSON(http.StatusOK, a)
}

func CreateArticle(c *gin.Context) {
	var a model.Article
	if err := c.ShouldBindJSON(&a); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return
	}
	model.DB.Create(&a)
	go notify(a.Title)
	c.JSON(http.StatusCreated, a)
}

// notify tells the search service about a new article.
func notify(title string) {
	body, _ := json.Marshal(map[string]string{"title": title})
	client := &http.Client{}
	req, _ := http.NewRequest(http.MethodPost, "http://search.example.com/index", nil)
	_ = body
	client.Do(req)
}
